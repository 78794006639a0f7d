package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"
)

// Auth guards the admin endpoints that change state (POST
// /admin/reload): a request is allowed only as POST, and only with the
// configured token (`Authorization: Bearer TOKEN`, compared in constant
// time) or from a configured address. With neither configured every such
// request is refused: the admin listener is usually on loopback, where
// any local process — or paycode itself, made to POST by a crafted
// notify URL — could otherwise call it. Read-only endpoints are not
// guarded.
type Auth struct {
	token [sha256.Size]byte
	has   bool
	allow []netip.Prefix
}

// NewAuth builds the guard from a token (empty: none) and addresses
// or CIDRs allowed without one.
func NewAuth(token string, allow []string) (*Auth, error) {
	a := &Auth{}
	if token != "" {
		if len(token) < 16 {
			return nil, errors.New("admin token must be at least 16 characters")
		}
		a.token, a.has = sha256.Sum256([]byte(token)), true
	}
	for _, e := range allow {
		if !strings.Contains(e, "/") {
			ad, err := netip.ParseAddr(e)
			if err != nil {
				return nil, fmt.Errorf("admin allow entry %q is not an address or a CIDR", e)
			}
			a.allow = append(a.allow, netip.PrefixFrom(ad.Unmap(), ad.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return nil, fmt.Errorf("admin allow entry %q is not an address or a CIDR", e)
		}
		a.allow = append(a.allow, p.Masked())
	}
	return a, nil
}

// Permit reports whether ctx may change state; when not, it has answered
// (405 for another method, 403 otherwise, with a line saying what is
// needed).
func (a *Auth) Permit(ctx *fasthttp.RequestCtx) bool {
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		ctx.Error("POST only\n", fasthttp.StatusMethodNotAllowed)
		return false
	}
	if a != nil && a.has {
		if v, ok := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer "); ok {
			sum := sha256.Sum256([]byte(v))
			if subtle.ConstantTimeCompare(sum[:], a.token[:]) == 1 {
				return true
			}
		}
	}
	if a != nil && len(a.allow) > 0 {
		if ta, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
			if ip, ok := netip.AddrFromSlice(ta.IP); ok {
				for _, p := range a.allow {
					if p.Contains(ip.Unmap()) {
						return true
					}
				}
			}
		}
	}
	if a == nil || (!a.has && len(a.allow) == 0) {
		ctx.Error("refused: set adminToken (and send Authorization: Bearer TOKEN) or adminAllow to use this endpoint; SIGHUP reloads too\n", fasthttp.StatusForbidden)
		return false
	}
	ctx.Error("refused: a valid Authorization: Bearer token or an allowed address is required\n", fasthttp.StatusForbidden)
	return false
}
