package httpapi

import (
	"bytes"
	"compress/gzip"
	"embed"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"aftersale/internal/metrics"
)

// The API reference at /docs is Stoplight Elements (the renderer huma's
// own docs page uses, same version), served from the binary so that the
// page works without internet: the page is docsui/docs.html and the npm
// package's standalone web-components.min.js and styles.min.css, with its
// licence files, are under docsui/assets/, served at DocsAssets. The two
// are kept gzipped (gzip -9 -n of the package's files; 2 MiB of script is
// 580 KiB so): a client that accepts gzip gets them as they are, another
// gets them inflated.

// DocsAssets is the URL path the reference page's script and stylesheet
// are served under. The folder below it names the package's version, so
// the files never change at a path and are cached for a year.
const DocsAssets = "/docs/assets/"

// elementsDir is the folder of Stoplight Elements under docsui/assets.
const elementsDir = "elements-9.0.15"

//go:embed docsui/docs.html docsui/assets
var docsFS embed.FS

var docsPage = template.Must(template.ParseFS(docsFS, "docsui/docs.html"))

// docsCSP allows the page nothing but this server: its own script and
// stylesheet, the inline styles Elements sets, and reading the OpenAPI
// document (connect-src, also for "try it").
var docsCSP = strings.Join([]string{
	"default-src 'none'",
	"base-uri 'none'",
	"connect-src 'self'",
	"form-action 'none'",
	"frame-ancestors 'none'",
	"sandbox allow-same-origin allow-scripts",
	"script-src 'self'",
	"style-src 'self' 'unsafe-inline'",
}, "; ")

// mountDocs serves the reference page at /docs and its assets under
// DocsAssets. Both need no key.
func (s *Server) mountDocs(mux *http.ServeMux, title string) {
	var page bytes.Buffer
	err := docsPage.Execute(&page, struct{ Title, Styles, Script, Spec string }{
		Title:  title + " Reference",
		Styles: DocsAssets + elementsDir + "/styles.min.css",
		Script: DocsAssets + elementsDir + "/web-components.min.js",
		Spec:   "/openapi.yaml",
	})
	if err != nil {
		panic("httpapi: the docs page: " + err.Error())
	}
	body := page.Bytes()
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", docsCSP)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		w.Write(body)
	})

	assets, err := fs.Sub(docsFS, "docsui/assets")
	if err != nil {
		panic("httpapi: the docs assets: " + err.Error())
	}
	files := http.StripPrefix(DocsAssets, http.FileServerFS(assets))
	mux.HandleFunc("GET "+DocsAssets+"{file...}", func(w http.ResponseWriter, r *http.Request) {
		metrics.SetRoute(r.Context(), r.Method, DocsAssets+"{file...}")
		name := r.PathValue("file")
		if name == "" || strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".gz") { // no folder listings; the .gz files by their own names
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		if gz, err := fs.ReadFile(assets, name+".gz"); err == nil {
			serveGzipped(w, r, name, gz)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// serveGzipped answers gz, the gzip of the file name, as it is when the
// client accepts gzip and inflated otherwise.
func serveGzipped(w http.ResponseWriter, r *http.Request, name string, gz []byte) {
	h := w.Header()
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(gz)))
		w.Write(gz)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		http.Error(w, "bad asset", http.StatusInternalServerError)
		return
	}
	io.Copy(w, zr)
}

// acceptsGzip tells whether an Accept-Encoding value accepts gzip (named
// or by *, and not with q=0).
func acceptsGzip(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		if v, ok := strings.CutPrefix(q, "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f == 0 {
				continue
			}
		}
		return true
	}
	return false
}
