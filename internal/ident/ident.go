// Package ident holds the one rule every identifier the API takes obeys:
// path parameters, query parameters (cursors, shop_id …), ids in request
// bodies and the ids in facts. The same rule on every store means an id
// that one store would reject, or silently alter, is refused first, alike.
package ident

import (
	"unicode"
	"unicode/utf8"

	"aftersale/internal/apperr"
)

// MaxLen is the longest id, in characters (Unicode code points).
const MaxLen = 128

// Reason is the problem reason of an id that breaks the rule.
const Reason = "id.invalid"

// Check returns nil when s is a well-formed id, else a refusal (EINVALID,
// reason id.invalid) naming field. An id is at most MaxLen characters of
// valid UTF-8 without control characters (U+0000…U+001F, U+007F…U+009F),
// format characters (RLO U+202E, zero-width space U+200B, BOM …), line or
// paragraph separators, or U+FFFD (what a decoder puts in place of invalid
// bytes: two distinct ids would become one). The empty id passes: whether
// an id is required is the caller's rule. The refusal never repeats the id
// (it may be megabytes long or unprintable).
func Check(field, s string) error {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		n++
		switch {
		case n > MaxLen:
			return apperr.New(apperr.EINVALID, Reason, field, "", "%s is longer than %d characters", field, MaxLen)
		case r == utf8.RuneError && size <= 1:
			return apperr.New(apperr.EINVALID, Reason, field, "", "%s is not valid UTF-8 (byte %d)", field, i+1)
		case r == utf8.RuneError:
			return apperr.New(apperr.EINVALID, Reason, field, "", "%s contains U+FFFD (the replacement character) at character %d", field, n)
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp):
			return apperr.New(apperr.EINVALID, Reason, field, "", "%s contains %U, a control or format character, at character %d", field, r, n)
		}
		i += size
	}
	return nil
}

// Valid reports whether s is a well-formed id (Check returns nil).
func Valid(s string) bool { return Check("", s) == nil }
