package ident

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paycode/paycode/engine"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// maxAnswerSize bounds a service answer; a real one is under 100 bytes.
const maxAnswerSize = 4096

// maxHintTTL caps a hub's ttlSeconds hint before it is turned into a
// Duration, so a silly value cannot overflow.
const maxHintTTL = 24 * time.Hour

// errBadAnswer is a reply that is not the protocol's.
var errBadAnswer = errors.New("ident: identification service answer is not the protocol's")

// ServiceClient is the client side of the identification service (see
// doc.go for the protocol). It sends only the code's first MaxPrefixLen
// digits and its length, never the code. Safe for concurrent use.
type ServiceClient struct {
	hc      *fasthttp.HostClient
	base    string // scheme://host[/path]/v1/identify?prefix=
	name    string // scheme://host[/path], for errors and String
	timeout time.Duration
	parsers fastjson.ParserPool
}

// NewServiceClient returns a client for the service at serviceURL
// (http or https, host, optional base path; no credentials, query or
// fragment). Each call is bounded by timeout (and by the caller's context
// deadline if earlier); at most maxConns connections are open to the hub,
// and a call finding all busy waits for one within its timeout.
func NewServiceClient(serviceURL string, timeout time.Duration, maxConns int) (*ServiceClient, error) {
	u, err := parseServiceURL(serviceURL)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		return nil, errors.New("ident: service client timeout must be positive")
	}
	if maxConns <= 0 {
		return nil, errors.New("ident: service client needs at least one connection")
	}
	isTLS := u.Scheme == "https"
	name := u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/")
	return &ServiceClient{
		hc: &fasthttp.HostClient{
			Addr:                      fasthttp.AddMissingPort(u.Host, isTLS),
			Name:                      "paycode-ident",
			IsTLS:                     isTLS,
			MaxConns:                  maxConns,
			MaxConnWaitTimeout:        timeout,
			ReadTimeout:               timeout,
			WriteTimeout:              timeout,
			MaxResponseBodySize:       maxAnswerSize,
			MaxIdemponentCallAttempts: 1, // one ask per miss: the Identifier decides about retries
		},
		base:    name + IdentifyPath + "?prefix=",
		name:    name,
		timeout: timeout,
	}, nil
}

func parseServiceURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("ident: service URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("ident: service URL must be http or https")
	case u.Host == "":
		return nil, errors.New("ident: service URL has no host")
	case u.User != nil:
		return nil, errors.New("ident: service URL must not carry credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("ident: service URL must not have a query or fragment")
	}
	return u, nil
}

// Identify asks the service about codes of this length starting with
// digits. 200 is a route, a protocol 404 (a JSON body whose wallet is "")
// is "no rule"; anything else — transport error, timeout, other status, a
// 404 without the protocol body (a wrong URL must not turn every code into
// "no issuer") — is an error wrapping engine.ErrIdentifyUnavailable.
func (c *ServiceClient) Identify(ctx context.Context, digits []byte, length int) (Answer, error) {
	if err := ctx.Err(); err != nil {
		return Answer{}, c.unavailable(err)
	}
	if len(digits) > MaxPrefixLen {
		digits = digits[:MaxPrefixLen]
	}
	if !validPrefix(digits) {
		return Answer{}, c.unavailable(ErrBadPrefix)
	}
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)

	var buf [192]byte
	u := append(buf[:0], c.base...)
	u = append(u, digits...)
	u = append(u, "&length="...)
	u = strconv.AppendInt(u, int64(length), 10)
	req.SetRequestURIBytes(u)
	req.Header.SetMethod(fasthttp.MethodGet)
	if err := c.hc.DoDeadline(req, resp, deadline); err != nil {
		return Answer{}, c.unavailable(err)
	}
	return c.parse(resp.StatusCode(), resp.Body())
}

func (c *ServiceClient) parse(status int, body []byte) (Answer, error) {
	if status != fasthttp.StatusOK && status != fasthttp.StatusNotFound {
		return Answer{}, c.unavailable(fmt.Errorf("status %d", status))
	}
	p := c.parsers.Get()
	defer c.parsers.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil || v.Type() != fastjson.TypeObject {
		return Answer{}, c.unavailable(fmt.Errorf("%w: status %d with a body that is not a JSON object", errBadAnswer, status))
	}
	w := v.Get("wallet")
	if w == nil || w.Type() != fastjson.TypeString {
		return Answer{}, c.unavailable(fmt.Errorf("%w: status %d without a wallet", errBadAnswer, status))
	}
	wallet, _ := w.StringBytes()
	ans := Answer{TTL: ttlHint(v.Get("ttlSeconds"))}
	if status == fasthttp.StatusNotFound {
		if len(wallet) != 0 {
			return Answer{}, c.unavailable(fmt.Errorf("%w: status 404 with a wallet", errBadAnswer))
		}
		return ans, nil
	}
	if !validWallet(wallet) {
		return Answer{}, c.unavailable(fmt.Errorf("%w: %w", errBadAnswer, ErrBadWallet))
	}
	ans.Wallet = string(wallet)
	return ans, nil
}

// ttlHint reads ttlSeconds leniently: missing, non-integer or negative
// means no hint (the Identifier's TTL applies), since a hint can only
// shorten caching and is not worth failing a payment over.
func ttlHint(v *fastjson.Value) time.Duration {
	if v == nil {
		return 0
	}
	n, err := v.Int64()
	if err != nil || n <= 0 {
		return 0
	}
	if n > int64(maxHintTTL/time.Second) {
		return maxHintTTL
	}
	return time.Duration(n) * time.Second
}

func (c *ServiceClient) unavailable(err error) error {
	return fmt.Errorf("ident: identification service %s: %w: %w", c.name, engine.ErrIdentifyUnavailable, err)
}

// Close closes idle connections. In-flight calls finish normally.
func (c *ServiceClient) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// String names the service, for logs and Config printing.
func (c *ServiceClient) String() string { return "service " + c.name }

var _ Source = (*ServiceClient)(nil)
