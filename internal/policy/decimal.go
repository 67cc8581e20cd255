package policy

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Decimal is an exact decimal number in a policy file: a ratio or an average
// such as an industry's liability rate ("0.5%", "0.005") or average count
// ("2", "1.25"). It is Units / 10^Scale, kept exact so that comparisons
// such as "rate > 5 × industry average" (R-LIA-2) are decided without
// floating-point error. Policy files write it as a number or a string; a
// trailing "%" divides by 100. The zero value is 0.
type Decimal struct {
	units int64
	scale int32
}

// maxDecimalScale bounds the digits after the point (10^18 fits int64).
const maxDecimalScale = 18

// ParseDecimal parses "5", "0.005", "-1.5", "0.5%" exactly. Exponents
// ("5e-3") are refused: write the digits.
func ParseDecimal(s string) (Decimal, error) {
	in := s
	s = strings.TrimSpace(s)
	bad := func() (Decimal, error) {
		return Decimal{}, fmt.Errorf("bad number %q: want a decimal such as 5, 0.005 or 0.5%%", in)
	}
	var scale int32
	if rest, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = strings.TrimSpace(rest), 2
	}
	neg := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		s, neg = rest, true
	} else {
		s = strings.TrimPrefix(s, "+")
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return bad()
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return bad()
			}
		}
	}
	frac = strings.TrimRight(frac, "0")
	digits := strings.TrimLeft(whole+frac, "0")
	scale += int32(len(frac))
	if digits == "" {
		return Decimal{}, nil
	}
	if scale > maxDecimalScale {
		return Decimal{}, fmt.Errorf("bad number %q: at most %d digits after the point", in, maxDecimalScale)
	}
	u, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return Decimal{}, fmt.Errorf("bad number %q: out of range", in)
	}
	if neg {
		u = -u
	}
	return Decimal{units: u, scale: scale}.norm(), nil
}

// MustDecimal is ParseDecimal for constants in code and tests; it panics on
// a bad number.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// decimalFromFloat converts a YAML float such as 0.005 to the decimal it
// was written as (the shortest representation that round-trips).
func decimalFromFloat(f float64) (Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Decimal{}, fmt.Errorf("bad number %v", f)
	}
	return ParseDecimal(strconv.FormatFloat(f, 'f', -1, 64))
}

// norm drops trailing zeros so equal values compare equal with ==.
func (d Decimal) norm() Decimal {
	for d.scale > 0 && d.units%10 == 0 {
		d.units /= 10
		d.scale--
	}
	if d.units == 0 {
		d.scale = 0
	}
	return d
}

// Rat returns the exact value.
func (d Decimal) Rat() *big.Rat {
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.scale)), nil)
	return new(big.Rat).SetFrac(big.NewInt(d.units), den)
}

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int {
	switch {
	case d.units < 0:
		return -1
	case d.units > 0:
		return 1
	}
	return 0
}

// Float64 returns the value for display only; never compare with it.
func (d Decimal) Float64() float64 {
	f, _ := d.Rat().Float64()
	return f
}

// String writes the value as a plain decimal ("0.005", "5").
func (d Decimal) String() string {
	if d.scale == 0 {
		return strconv.FormatInt(d.units, 10)
	}
	s := strconv.FormatInt(d.units, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if pad := int(d.scale) + 1 - len(s); pad > 0 {
		s = strings.Repeat("0", pad) + s
	}
	s = s[:len(s)-int(d.scale)] + "." + s[len(s)-int(d.scale):]
	if neg {
		s = "-" + s
	}
	return s
}

// MarshalText writes the value as String does.
func (d Decimal) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a value as ParseDecimal does.
func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
