package evidence

import (
	"testing"

	"aftersale/internal/policy"
)

// R-EVD-1: the five allowed types are recognised from their bytes, and a
// text or executable pretending to be an image is not.
func TestSniff_R_EVD_1_AllowedTypes(t *testing.T) {
	cases := map[string]string{
		"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR":    "image/png",
		"\xff\xd8\xff\xe0\x00\x10JFIF\x00":       "image/jpeg",
		"GIF89a\x01\x00\x01\x00":                 "image/gif",
		"RIFF\x24\x00\x00\x00WEBPVP8 ":           "image/webp",
		"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n":          "application/pdf",
		"<html><body>not an image</body></html>": "text/html",
		"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00": "application/octet-stream",
	}
	for data, want := range cases {
		if got := Sniff([]byte(data)); got != want {
			t.Errorf("Sniff(%q) = %q, want %q", data[:6], got, want)
		}
	}
	for _, ct := range policy.SniffableTypes {
		found := false
		for _, want := range cases {
			found = found || want == ct
		}
		if !found {
			t.Errorf("policy.SniffableTypes lists %s, which this test does not sniff", ct)
		}
	}
}

func TestSHA256(t *testing.T) {
	if got := SHA256([]byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("SHA256(abc) = %s", got)
	}
}
