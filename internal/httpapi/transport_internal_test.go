package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// ClientAddr is the peer, unless the peer is a trusted proxy: then the
// right-most X-Forwarded-For address that is not itself a trusted proxy
// (what a client writes to the left of it is its own word). From an
// untrusted peer, X-Forwarded-For and X-Forwarded-Proto count for nothing.
func TestClientAddr_TrustedProxies(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.5")
	if err != nil {
		t.Fatal(err)
	}
	cfg := ProxyConfig{TrustedProxies: proxies}
	for _, tc := range []struct {
		name, peer, xff, xfp, want string
		https                      bool
	}{
		{"direct", "203.0.113.7:5555", "", "", "203.0.113.7", false},
		{"untrusted peer's headers", "203.0.113.7:5555", "1.2.3.4", "https", "203.0.113.7", false},
		{"trusted proxy", "10.1.2.3:80", "198.51.100.9", "https", "198.51.100.9", true},
		{"two trusted proxies", "10.1.2.3:80", "198.51.100.9, 192.168.1.5", "http", "198.51.100.9", false},
		{"a client's forged hop", "10.1.2.3:80", "6.6.6.6, 198.51.100.9", "", "198.51.100.9", false},
		{"trusted proxy, no header", "192.168.1.5:80", "", "", "192.168.1.5", false},
		{"garbage hop", "10.1.2.3:80", "nonsense", "", "10.1.2.3", false},
		{"ipv6 peer", "[2001:db8::1]:443", "1.2.3.4", "", "2001:db8::1", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if tc.xfp != "" {
			r.Header.Set("X-Forwarded-Proto", tc.xfp)
		}
		var got string
		var https bool
		cfg.middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			got, https = ClientAddr(r), secureCookies(r)
		})).ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want || https != tc.https {
			t.Errorf("%s: ClientAddr %q secure %v, want %q %v", tc.name, got, https, tc.want, tc.https)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("10.0.0.0/33 accepted")
	}
}
