package netx

import (
	"net/netip"
	"testing"
)

// Public is false for every range that does not lead to the public
// internet (loopback, RFC 1918, unique-local, link-local, CGNAT,
// unspecified, multicast, NAT64, IPv4-mapped forms of those) and true for
// ordinary public addresses.
func TestPublic(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "127.8.9.10", "::1", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1",
		"fd00::1", "fc00::1", "169.254.169.254", "fe80::1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "::", "0.1.2.3",
		"224.0.0.1", "ff02::1", "255.255.255.255", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "198.18.0.1", "fe80::1%eth0"} {
		if Public(netip.MustParseAddr(a)) {
			t.Errorf("Public(%s) = true", a)
		}
	}
	for _, a := range []string{"8.8.8.8", "203.0.113.10", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"} {
		if !Public(netip.MustParseAddr(a)) {
			t.Errorf("Public(%s) = false", a)
		}
	}
}

// ParsePrefixes takes addresses and prefixes separated by commas or
// spaces (a bare address is one host; an IPv4-mapped one is its IPv4
// address), and names the entry it cannot read.
func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes(" 10.0.0.0/8, 192.168.1.5 ::1,::ffff:10.1.0.0/112,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.5/32", "::1/128", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d: %s, want %s", i, got[i], want[i])
		}
	}
	if !Contains(got, netip.MustParseAddr("::ffff:10.9.9.9")) || Contains(got, netip.MustParseAddr("11.0.0.1")) {
		t.Error("Contains")
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "1.2.3"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q) accepted", bad)
		}
	}
	if got, err := ParsePrefixes(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
}
