package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"aftersale/internal/apperr"
)

// Params are argon2id's cost parameters. The PHC string of a hash records
// the parameters it was made with, so raising them later leaves old hashes
// verifiable.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane):
// about 30–60 ms per hash on one core of a small server.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Password length limits, in characters (runes). The upper bound keeps a
// hashing request cheap to refuse.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// CheckPassword refuses a password that is too short or too long (field password).
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen || n > MaxPasswordLen {
		return apperr.New(apperr.EINVALID, "password.length", "password", "",
			"a password has %d to %d characters; got %d", MinPasswordLen, MaxPasswordLen, n)
	}
	return nil
}

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of pw with a fresh random salt, as a
// PHC string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded base64).
func HashPassword(pw string, p Params) (string, error) {
	if p.SaltLen == 0 || p.KeyLen == 0 || p.Time == 0 || p.Memory == 0 || p.Threads == 0 {
		return "", errors.New("auth: argon2id parameters must be positive")
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// ErrBadHash is returned for a stored hash that is not an argon2id PHC string.
var ErrBadHash = errors.New("auth: not an argon2id PHC string")

// VerifyPassword reports whether pw matches the PHC string, in time that
// does not depend on where the two differ.
func VerifyPassword(pw, phc string) (bool, error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	return matches(pw, p, salt, want), nil
}

// matches runs argon2id on pw with the salt and cost of a parsed hash and
// compares in constant time.
func matches(pw string, p Params, salt, want []byte) bool {
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

func parsePHC(phc string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(phc, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
		return p, nil, nil, ErrBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) == 0 {
		return p, nil, nil, ErrBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return p, nil, nil, ErrBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
