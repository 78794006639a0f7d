package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Errors of the destination policy. Their texts are written for the
// lane's developer (arrival answers quote them) and name no address.
var (
	// ErrHTTP: an http:// notify URL where only https is allowed.
	ErrHTTP = errors.New("must be https:// (http is not allowed by this paycode's notify.allowHTTP)")
	// ErrDestination: the URL's host is, or resolved to, an address
	// paycode does not connect to (loopback, private, link-local,
	// unspecified, … or one of paycode's own listeners) and no allow-list
	// entry admits it.
	ErrDestination = errors.New("names a host paycode does not notify (loopback, private, link-local or its own listeners; see notify.allow)")
)

// refusedNets are the ranges refused unless allowed: besides what
// netip.Addr's predicates cover (loopback, private, link-local,
// unspecified, multicast), the special-purpose ranges of RFC 6890 through
// which a host can still reach an internal network: shared address space
// (CGNAT), "this network", IETF protocol assignments, benchmarking,
// reserved, NAT64 and 6to4 (which embed an IPv4 address), and the
// deprecated site-local IPv6 range.
var refusedNets = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("fec0::/10"),
}

// special reports whether a is in a range refused unless allowed.
func special(a netip.Addr) bool {
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsValid() {
		return true
	}
	for _, p := range refusedNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// allowList is hosts (exact names, lower case) and address ranges.
type allowList struct {
	hosts map[string]bool
	nets  []netip.Prefix
}

// parseAllow reads allow-list entries: a CIDR ("10.1.0.0/16"), an address
// ("127.0.0.1", a /32 or /128) or a host name ("notify.merchant.internal").
func parseAllow(entries []string) (allowList, error) {
	l := allowList{hosts: map[string]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			return l, errors.New("notify: an empty allow-list entry")
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return l, fmt.Errorf("notify: allow-list entry %q: %w", e, err)
			}
			l.nets = append(l.nets, p.Masked())
		default:
			if a, err := netip.ParseAddr(e); err == nil {
				l.nets = append(l.nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			if strings.ContainsAny(e, ":@ \t") {
				return l, fmt.Errorf("notify: allow-list entry %q is not a host, an address or a CIDR", e)
			}
			l.hosts[strings.ToLower(strings.TrimSuffix(e, "."))] = true
		}
	}
	return l, nil
}

func (l *allowList) hostAllowed(host string) bool {
	return l.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]
}

func (l *allowList) addrAllowed(a netip.Addr) bool {
	for _, p := range l.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// policy decides where notifications may go: one per client with its own
// allow-list, over the global one, sharing the own-listener set.
type policy struct {
	allowHTTP bool
	global    allowList
	client    *allowList // nil: the global list only
	own       *ownListeners
}

// ownListeners are paycode's own listener addresses, never a notify
// destination whatever the allow-lists say (the admin listener above all).
// Listeners are added as they open (Notifier.Refuse).
type ownListeners struct {
	mu    sync.RWMutex
	exact map[netip.AddrPort]bool
	// ports of listeners on an unspecified address (":9090"): every
	// local address at that port is theirs.
	anyPorts map[uint16]bool
	local    []netip.Addr // this host's addresses, for anyPorts
	resolver *net.Resolver
}

func (o *ownListeners) add(addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		host, port, serr := net.SplitHostPort(addr)
		if serr != nil {
			return fmt.Errorf("notify: own listener %q: %w", addr, err)
		}
		pn, perr := strconv.ParseUint(port, 10, 16)
		if perr != nil {
			return fmt.Errorf("notify: own listener %q: %w", addr, perr)
		}
		if host == "" {
			ap = netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(pn))
		} else {
			ips, lerr := o.resolver.LookupNetIP(context.Background(), "ip", host)
			if lerr != nil {
				return fmt.Errorf("notify: own listener %q: %w", addr, lerr)
			}
			o.mu.Lock()
			for _, ip := range ips {
				o.exact[netip.AddrPortFrom(ip.Unmap(), uint16(pn))] = true
			}
			o.mu.Unlock()
			return nil
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	a := ap.Addr().Unmap()
	if a.IsUnspecified() {
		o.anyPorts[ap.Port()] = true
		if o.local == nil {
			o.local = localAddrs()
		}
		return nil
	}
	o.exact[netip.AddrPortFrom(a, ap.Port())] = true
	return nil
}

func (o *ownListeners) has(ap netip.AddrPort) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.exact[ap] {
		return true
	}
	if ap.Addr().IsUnspecified() {
		// A connection to 0.0.0.0 or :: goes to this host itself (Linux
		// connects it to 127.0.0.1 or ::1): an own listener on loopback
		// at that port is reached through it, so it counts as one.
		for own := range o.exact {
			if own.Port() == ap.Port() && own.Addr().IsLoopback() {
				return true
			}
		}
	}
	if !o.anyPorts[ap.Port()] {
		return false
	}
	if ap.Addr().IsLoopback() || ap.Addr().IsUnspecified() {
		return true
	}
	for _, l := range o.local {
		if l == ap.Addr() {
			return true
		}
	}
	return false
}

// localAddrs lists this host's interface addresses.
func localAddrs() []netip.Addr {
	as, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range as {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

// checkAddr decides a connection to ap (the resolved address) of a URL
// whose host, as written, is host.
func (p *policy) checkAddr(host string, ap netip.AddrPort) error {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if p.own.has(ap) {
		return ErrDestination
	}
	if p.global.hostAllowed(host) || p.global.addrAllowed(ap.Addr()) {
		return nil
	}
	if p.client != nil && (p.client.hostAllowed(host) || p.client.addrAllowed(ap.Addr())) {
		return nil
	}
	if special(ap.Addr()) {
		return ErrDestination
	}
	return nil
}

// checkURL is the arrival check of a URL that codec accepted: the scheme,
// and a literal address host (a name is resolved only when connecting).
func (p *policy) checkURL(rawURL string) error {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	if !strings.EqualFold(scheme, "https") && !p.allowHTTP {
		return ErrHTTP
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	host, port := rest, ""
	if h, pt, err := net.SplitHostPort(rest); err == nil {
		host, port = h, pt
	}
	host = strings.Trim(host, "[]")
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil // a name: checked on its resolved addresses when dialled
	}
	pn := uint64(443)
	if strings.EqualFold(scheme, "http") {
		pn = 80
	}
	if port != "" {
		if pn, err = strconv.ParseUint(port, 10, 16); err != nil {
			return ErrDestination
		}
	}
	return p.checkAddr(host, netip.AddrPortFrom(a, uint16(pn)))
}

// dialer returns the fasthttp Dial of p: the destination is checked on
// every address the name resolves to, at connect time (net.Dialer's
// Control runs on the address actually being connected), so a name that
// resolves differently later (DNS rebinding) gains nothing.
func (p *policy) dialer(timeout time.Duration, r *net.Resolver) func(addr string) (net.Conn, error) {
	return func(addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		d := net.Dialer{Timeout: timeout, Resolver: r, Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return ErrDestination
			}
			return p.checkAddr(host, ap)
		}}
		return d.Dial("tcp", addr)
	}
}
