package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// attrRef finds every src= and href= in a page, quoted either way.
var attrRef = regexp.MustCompile(`\b(src|href)\s*=\s*["']([^"']*)["']`)

// cssExternal finds what a stylesheet would fetch from another server.
var cssExternal = regexp.MustCompile(`(?i)(?:url\(\s*["']?|@import\s+["'])\s*(?:https?:)?//`)

// The API reference works offline (issue 11): /docs references no script
// or stylesheet outside the server, its policy allows none, and every asset
// it references answers 200 with its type and a long cache lifetime.
func TestDocsServesItsAssetsItself(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	r := e.req(http.MethodGet, "/docs", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("/docs: %d", r.Status)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("/docs: Content-Type %q", ct)
	}
	csp := r.Header.Get("Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "http:") || strings.Contains(csp, "https:") {
		t.Errorf("/docs: Content-Security-Policy %q names another server or is missing", csp)
	}
	page := string(r.Body)
	if strings.Contains(page, "//unpkg.com") || strings.Contains(page, "cdn") {
		t.Errorf("/docs still names a CDN:\n%s", page)
	}
	if !strings.Contains(page, "<elements-api") || !strings.Contains(page, `apiDescriptionUrl="/openapi.yaml"`) {
		t.Errorf("/docs renders no <elements-api> of /openapi.yaml:\n%s", page)
	}

	want := map[string]string{".js": "text/javascript", ".css": "text/css"}
	seen := map[string]bool{}
	for _, m := range attrRef.FindAllStringSubmatch(page, -1) {
		ref := m[2]
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("/docs: %s=%q is not a path of this server", m[1], ref)
			continue
		}
		ext := ref[strings.LastIndex(ref, "."):]
		if want[ext] == "" {
			t.Errorf("/docs: %s=%q is neither a script nor a stylesheet", m[1], ref)
			continue
		}
		seen[ext] = true
		a := e.req(http.MethodGet, ref, "", nil)
		if a.Status != http.StatusOK || len(a.Body) < 1000 {
			t.Errorf("%s: %d, %d bytes", ref, a.Status, len(a.Body))
			continue
		}
		if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, want[ext]) {
			t.Errorf("%s: Content-Type %q, want %s", ref, ct, want[ext])
		}
		if cc := a.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q, want a year and immutable", ref, cc)
		}
		if ext == ".css" && cssExternal.MatchString(string(a.Body)) {
			t.Errorf("%s fetches from another server: %q", ref, cssExternal.FindString(string(a.Body)))
		}
	}
	if !seen[".js"] || !seen[".css"] {
		t.Errorf("/docs references scripts and stylesheets %v, want both", seen)
	}

	// The licences are served beside the files; folders are not listed;
	// an unknown asset is 404.
	for path, status := range map[string]int{
		"/docs/assets/elements-9.0.15/elements.LICENSE": http.StatusOK,
		"/docs/assets/elements-9.0.15/":                 http.StatusNotFound,
		"/docs/assets/":                                 http.StatusNotFound,
		"/docs/assets/elements-9.0.15/nothing.js":       http.StatusNotFound,
	} {
		if got := e.req(http.MethodGet, path, "", nil).Status; got != status {
			t.Errorf("GET %s: %d, want %d", path, got, status)
		}
	}

	// The document the page reads answers too, without a key.
	spec, err := http.Get(e.srv.URL + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer spec.Body.Close()
	b, _ := io.ReadAll(spec.Body)
	if spec.StatusCode != http.StatusOK || !strings.Contains(string(b), "openapi: 3.1") {
		t.Errorf("/openapi.yaml: %d %.80q", spec.StatusCode, b)
	}
}

// The script and stylesheet are Stoplight Elements 9.0.15's own, byte for
// byte: their SHA-384 is the integrity huma 2.37.2's docs page gave
// unpkg's copies. A client that accepts gzip gets them gzipped, another
// inflated; either way the same bytes.
func TestDocsAssetsArePinned(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	pinned := map[string]string{
		"/docs/assets/elements-9.0.15/web-components.min.js": "sha384-xjOcq9PZ/k+pGtPS/xcsCRXGjKKfTlIa4H1IYEnC+97jNa6sAMWTNrV6hY08W3GL",
		"/docs/assets/elements-9.0.15/styles.min.css":        "sha384-iVQBHadsD+eV0M5+ubRCEVXrXEBj+BqcuwjUwPoVJc0Pb1fmrhYSAhL+BFProHdV",
	}
	for path, want := range pinned {
		for _, enc := range []string{"gzip", "identity", "gzip;q=0"} {
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept-Encoding", enc) // set, so the client does not inflate it itself
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("%s (%s): %d %v", path, enc, res.StatusCode, err)
			}
			gzipped := res.Header.Get("Content-Encoding") == "gzip"
			if gzipped != (enc == "gzip") {
				t.Errorf("%s (Accept-Encoding %s): Content-Encoding %q", path, enc, res.Header.Get("Content-Encoding"))
			}
			if gzipped {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
			}
			sum := sha512.Sum384(body)
			if got := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); got != want {
				t.Errorf("%s (Accept-Encoding %s): %s, want %s", path, enc, got, want)
			}
		}
	}
	if r := e.req(http.MethodGet, "/docs/assets/elements-9.0.15/web-components.min.js.gz", "", nil); r.Status != http.StatusNotFound {
		t.Errorf("the .gz by its own name: %d, want 404", r.Status)
	}
}
