package api

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/huiyin/huiyin"
)

// parseProxies reads trusted proxies given as addresses or CIDR ranges.
func parseProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: trusted proxy %q is neither an address nor a CIDR range", huiyin.ErrInvalid, s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (s *server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address rate limits, logs and the audit count a
// request under; see clientAddr.
func (s *server) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.IP()
	}
	return clientAddr(peer, c.Get(fiber.HeaderXForwardedFor), s.trusted)
}

// clientAddr is the peer's address, unless the peer is a trusted proxy.
// Then it is the rightmost X-Forwarded-For entry that is not itself a
// trusted proxy: entries to its left were written by the client and prove
// nothing, so a client cannot pick its own rate-limit bucket.
func clientAddr(peer netip.Addr, xff string, trusted func(netip.Addr) bool) string {
	peer = peer.Unmap()
	if !trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(xff, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// A malformed hop: nothing to its left can be trusted.
			break
		}
		if !trusted(a) {
			return a.Unmap().String()
		}
	}
	return peer.String()
}
