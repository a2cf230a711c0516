package api

import (
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies, err := parseProxies([]string{"127.0.0.1", "10.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{proxies: proxies}
	tests := []struct {
		peer, xff, want string
	}{
		{"203.0.113.9", "6.6.6.6", "203.0.113.9"},             // not from a proxy: the header is ignored
		{"127.0.0.1", "", "127.0.0.1"},                        // a proxy that names nobody
		{"127.0.0.1", "203.0.113.1", "203.0.113.1"},           // one proxy
		{"127.0.0.1", "6.6.6.6, 203.0.113.1", "203.0.113.1"},  // a forged entry on the left
		{"127.0.0.1", "203.0.113.1, 10.1.2.3", "203.0.113.1"}, // two proxies
		{"127.0.0.1", "10.1.2.3, 10.4.5.6", "127.0.0.1"},      // only proxies
		{"127.0.0.1", "203.0.113.1, junk", "127.0.0.1"},       // malformed: trust nothing further
		{"::ffff:127.0.0.1", " 2001:db8::1 ", "2001:db8::1"},  // mapped peer, IPv6 client
		{"::1", "203.0.113.1,,203.0.113.2", "203.0.113.2"},    // empty hop
	}
	for _, tt := range tests {
		got := clientAddr(netip.MustParseAddr(tt.peer), tt.xff, s.trusted)
		if got != tt.want {
			t.Errorf("clientAddr(%s, %q) = %s, want %s", tt.peer, tt.xff, got, tt.want)
		}
	}
}

// FuzzClientAddr: whatever a client writes in X-Forwarded-For, the answer
// is an address, and a request from an untrusted peer is counted as that
// peer.
func FuzzClientAddr(f *testing.F) {
	for _, seed := range []string{"", "203.0.113.1", "6.6.6.6, 10.0.0.1", "junk,,", "::1, 2001:db8::1", "1.2.3.4%eth0"} {
		f.Add(seed)
	}
	proxies, _ := parseProxies([]string{"127.0.0.1", "10.0.0.0/8"})
	s := &server{proxies: proxies}
	f.Fuzz(func(t *testing.T, xff string) {
		got := clientAddr(netip.MustParseAddr("127.0.0.1"), xff, s.trusted)
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("clientAddr gave %q for %q", got, xff)
		}
		if got := clientAddr(netip.MustParseAddr("203.0.113.9"), xff, s.trusted); got != "203.0.113.9" {
			t.Fatalf("an untrusted peer counted as %s", got)
		}
	})
}
