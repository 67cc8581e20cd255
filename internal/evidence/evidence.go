// Package evidence checks uploaded evidence files (凭证, R-EVD-1): their
// content type is sniffed from the bytes, never taken from the client, and
// they are addressed by their SHA-256.
package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// Sniff returns the content type of data as recognised from its first bytes
// (image/png, image/jpeg, image/gif, image/webp, application/pdf …), without
// parameters; "application/octet-stream" when nothing matches.
func Sniff(data []byte) string {
	ct := http.DetectContentType(data)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}

// SHA256 returns the hex SHA-256 of data.
func SHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
