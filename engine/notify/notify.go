// Package notify delivers notifyPayment messages to merchants over HTTP:
// it implements engine.Notifier. A delivery counts as acknowledged only
// when the merchant answers HTTP 200 with the acknowledgement body of spec
// §2.6 ({"result":{"resultCode":"SUCCESS","resultStatus":"S",…}});
// anything else (a redirect included: none is followed) is retried by the
// engine's outbox on its schedule.
//
// A notify URL is chosen by the lane, so it must not let a lane make
// paycode reach what the lane cannot: the destination policy (dest.go)
// refuses http unless allowed, and connections to loopback, private,
// link-local, unspecified and other special-purpose addresses unless an
// allow-list (global or per client) admits them; paycode's own listeners
// are refused always. The check runs at arrival (CheckURL, for literal
// addresses and the scheme) and at connect time on the resolved address,
// so DNS rebinding cannot bypass it. Deliveries have their own
// connection pool, limits and timeouts, so slow merchant endpoints hold
// nothing else.
//
// An adapter of the core: it imports engine and codec only.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/paycode/paycode/engine"
)

// Signer adds the signature headers of a request paycode sends (spec
// §4.5): it gets the request path, the merchant's client id, the
// request-time value and the body, and returns the signature header value
// ("" to send none). Issue-6 signing plugs in here.
type Signer func(path, clientID, requestTime string, body []byte) (string, error)

// Config configures a Notifier. Its YAML form is serve's notify section.
type Config struct {
	// Timeout bounds one delivery (DefaultTimeout when 0).
	Timeout time.Duration `yaml:"timeout"`
	// DialTimeout bounds connecting to a merchant (DefaultDialTimeout).
	DialTimeout time.Duration `yaml:"dialTimeout"`
	// MaxConnsPerHost caps connections to one merchant host
	// (DefaultMaxConnsPerHost).
	MaxConnsPerHost int `yaml:"maxConnsPerHost"`
	// MaxInFlight caps deliveries under way at once, all merchants
	// together (DefaultMaxInFlight); a delivery that finds no slot within
	// a second fails with ErrBusy and is sent again at the outbox's next
	// poll, not counted as an attempt.
	MaxInFlight int `yaml:"maxInFlight"`
	// AllowHTTP admits http:// notify URLs; otherwise only https.
	AllowHTTP bool `yaml:"allowHTTP"`
	// Allow lists destinations admitted although their address is
	// refused by default (loopback, private, link-local, …): host names
	// as written in the URL, addresses, or CIDRs. Never paycode's own
	// listeners.
	Allow []string `yaml:"allow"`
	// Clients adds allow-list entries per client id.
	Clients map[string][]string `yaml:"clients"`
	// Own lists paycode's own listener addresses known before the
	// Notifier starts (host:port as listened on), refused always; more
	// can be added with Refuse as listeners open.
	Own []string `yaml:"-"`

	// Resolver looks up the names of notify URLs when connecting, and
	// own listener addresses given by name (net.DefaultResolver when
	// nil). Every address it returns passes the connect-time check, so
	// it decides nothing about where a notification may go; tests give
	// one that needs no network.
	Resolver *net.Resolver `yaml:"-"`

	// Sign, when set, signs every notification.
	Sign Signer `yaml:"-"`
	// Now is the clock for request-time (time.Now when nil).
	Now func() time.Time `yaml:"-"`
}

// Defaults of Config.
const (
	// DefaultTimeout bounds a delivery: merchants must answer quickly;
	// the outbox retries anyway.
	DefaultTimeout         = 10 * time.Second
	DefaultDialTimeout     = 3 * time.Second
	DefaultMaxConnsPerHost = 8
	DefaultMaxInFlight     = 64
	// busyWait bounds the wait for a delivery slot.
	busyWait = time.Second
)

// EnsureDefaults fills the zero limits.
func (c *Config) EnsureDefaults() {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.MaxConnsPerHost == 0 {
		c.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
}

// Validate reports the first problem (after EnsureDefaults).
func (c *Config) Validate() error {
	if c.Timeout < 0 || c.DialTimeout < 0 || c.MaxConnsPerHost < 0 || c.MaxInFlight < 0 {
		return errors.New("notify: timeouts and limits must not be negative")
	}
	if _, err := parseAllow(c.Allow); err != nil {
		return err
	}
	for id, entries := range c.Clients {
		if _, err := parseAllow(entries); err != nil {
			return fmt.Errorf("client %s: %w", id, err)
		}
	}
	return nil
}

// Notifier posts notifications.
type Notifier struct {
	cfg    Config
	global policy
	client *fasthttp.Client
	// clients have their own allow-list, hence their own dialer and pool.
	clients map[string]clientPolicy
	slots   chan struct{}
	own     *ownListeners
	parser  fastjson.ParserPool
}

type clientPolicy struct {
	p      *policy
	client *fasthttp.Client
}

// New returns a Notifier; it fails only on an invalid Config.
func New(cfg Config) (*Notifier, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	own := &ownListeners{exact: map[netip.AddrPort]bool{}, anyPorts: map[uint16]bool{}, resolver: cfg.Resolver}
	global, _ := parseAllow(cfg.Allow)
	n := &Notifier{cfg: cfg, own: own, clients: map[string]clientPolicy{}, slots: make(chan struct{}, cfg.MaxInFlight),
		global: policy{allowHTTP: cfg.AllowHTTP, global: global, own: own}}
	for _, a := range cfg.Own {
		if err := own.add(a); err != nil {
			return nil, err
		}
	}
	n.client = n.newClient(&n.global)
	for id, entries := range cfg.Clients {
		cl, _ := parseAllow(entries)
		p := &policy{allowHTTP: cfg.AllowHTTP, global: global, client: &cl, own: own}
		n.clients[id] = clientPolicy{p: p, client: n.newClient(p)}
	}
	return n, nil
}

// newClient is a delivery client over p's dialer. No redirect is
// followed (Do never does), no proxy from the environment is used, and
// answers are small.
func (n *Notifier) newClient(p *policy) *fasthttp.Client {
	return &fasthttp.Client{
		Name:                "paycode-notify",
		Dial:                p.dialer(n.cfg.DialTimeout, n.cfg.Resolver),
		MaxConnsPerHost:     n.cfg.MaxConnsPerHost,
		MaxConnWaitTimeout:  busyWait,
		MaxIdleConnDuration: 30 * time.Second,
		ReadTimeout:         n.cfg.Timeout,
		WriteTimeout:        n.cfg.Timeout,
		MaxResponseBodySize: 64 << 10,
	}
}

// Refuse adds one of paycode's own listener addresses (host:port, as
// listened on) to the destinations refused always. Call it for every
// listener as it opens: the lane, the admin, simulated wallets.
func (n *Notifier) Refuse(addr string) error { return n.own.add(addr) }

func (n *Notifier) policyOf(clientID string) (*policy, *fasthttp.Client) {
	if cp, ok := n.clients[clientID]; ok {
		return cp.p, cp.client
	}
	return &n.global, n.client
}

// CheckURL is the arrival check of a notify URL that codec accepted (an
// absolute http(s) URL with a host): the scheme, and a host that is a
// literal address refused for clientID. Names are checked when dialled.
// It has the signature of httpapi.NotifyCheck.
func (n *Notifier) CheckURL(clientID, rawURL []byte) error {
	p, _ := n.policyOf(string(clientID))
	return p.checkURL(string(rawURL))
}

// Errors of a delivery.
var (
	ErrNotAcknowledged = errors.New("notify: the merchant did not acknowledge")
	ErrBadURL          = errors.New("notify: the notify URL is not an absolute http(s) URL")
	// ErrBusy is engine.ErrNotifierBusy (errors.Is): nothing was sent,
	// and the outbox does not count it as one of the merchant's attempts.
	ErrBusy = fmt.Errorf("notify: too many deliveries under way (%w)", engine.ErrNotifierBusy)
)

// Notify posts body to rawURL for the merchant clientID and reports nil
// only when the merchant acknowledged it.
func (n *Notifier) Notify(ctx context.Context, clientID, rawURL string, body []byte) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ErrBadURL
	}
	p, client := n.policyOf(clientID)
	if err := p.checkURL(rawURL); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if !n.acquire(ctx) {
		return ErrBusy
	}
	defer func() { <-n.slots }()
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.DisableNormalizing()
	req.SetRequestURI(rawURL)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json; charset=UTF-8")
	reqTime := n.cfg.Now().Format(time.RFC3339)
	req.Header.Set("client-id", clientID)
	req.Header.Set("request-time", reqTime)
	if n.cfg.Sign != nil {
		sig, err := n.cfg.Sign(path, clientID, reqTime, body)
		if err != nil {
			return fmt.Errorf("notify: sign: %w", err)
		}
		if sig != "" {
			req.Header.Set("signature", sig)
		}
	}
	req.SetBody(body)
	deadline := time.Now().Add(n.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := client.DoDeadline(req, resp, deadline); err != nil {
		return fmt.Errorf("notify: %s: %w", u.Host, err)
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return fmt.Errorf("%w: HTTP %d", ErrNotAcknowledged, resp.StatusCode())
	}
	jp := n.parser.Get()
	defer n.parser.Put(jp)
	v, err := jp.ParseBytes(resp.Body())
	if err != nil {
		return fmt.Errorf("%w: the answer is not JSON", ErrNotAcknowledged)
	}
	if string(v.GetStringBytes("result", "resultCode")) != "SUCCESS" || string(v.GetStringBytes("result", "resultStatus")) != "S" {
		return fmt.Errorf("%w: the answer's result is not SUCCESS/S", ErrNotAcknowledged)
	}
	return nil
}

// acquire takes a delivery slot, waiting at most busyWait.
func (n *Notifier) acquire(ctx context.Context) bool {
	select {
	case n.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(busyWait)
	defer t.Stop()
	select {
	case n.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

var _ engine.Notifier = (*Notifier)(nil)
