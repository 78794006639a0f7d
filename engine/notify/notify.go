// Package notify delivers notifyPayment messages to merchants over HTTP:
// it implements engine.Notifier. A delivery counts as acknowledged only
// when the merchant answers HTTP 200 with the acknowledgement body of spec
// §2.6 ({"result":{"resultCode":"SUCCESS","resultStatus":"S",…}});
// anything else is retried by the engine's outbox on its schedule.
package notify

import (
	"context"
	"errors"
	"fmt"
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

// Config configures a Notifier.
type Config struct {
	// Timeout bounds one delivery (DefaultTimeout when 0).
	Timeout time.Duration
	// MaxConnsPerHost caps connections to one merchant host.
	MaxConnsPerHost int
	// Sign, when set, signs every notification.
	Sign Signer
	// Now is the clock for request-time (time.Now when nil).
	Now func() time.Time
}

// DefaultTimeout bounds a delivery: merchants must answer quickly; the
// outbox retries anyway.
const DefaultTimeout = 10 * time.Second

// Notifier posts notifications.
type Notifier struct {
	cfg    Config
	client *fasthttp.Client
	parser fastjson.ParserPool
}

// New returns a Notifier.
func New(cfg Config) *Notifier {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConnsPerHost == 0 {
		cfg.MaxConnsPerHost = 64
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Notifier{cfg: cfg, client: &fasthttp.Client{
		Name:                "paycode-notify",
		MaxConnsPerHost:     cfg.MaxConnsPerHost,
		ReadTimeout:         cfg.Timeout,
		WriteTimeout:        cfg.Timeout,
		MaxResponseBodySize: 64 << 10,
	}}
}

// Errors of a delivery.
var (
	ErrNotAcknowledged = errors.New("notify: the merchant did not acknowledge")
	ErrBadURL          = errors.New("notify: the notify URL is not an absolute http(s) URL")
)

// Notify posts body to rawURL for the merchant clientID and reports nil
// only when the merchant acknowledged it.
func (n *Notifier) Notify(ctx context.Context, clientID, rawURL string, body []byte) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ErrBadURL
	}
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
	if err := n.client.DoDeadline(req, resp, deadline); err != nil {
		return fmt.Errorf("notify: %s: %w", u.Host, err)
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return fmt.Errorf("%w: HTTP %d", ErrNotAcknowledged, resp.StatusCode())
	}
	p := n.parser.Get()
	defer n.parser.Put(p)
	v, err := p.ParseBytes(resp.Body())
	if err != nil {
		return fmt.Errorf("%w: the answer is not JSON", ErrNotAcknowledged)
	}
	if string(v.GetStringBytes("result", "resultCode")) != "SUCCESS" || string(v.GetStringBytes("result", "resultStatus")) != "S" {
		return fmt.Errorf("%w: the answer's result is not SUCCESS/S", ErrNotAcknowledged)
	}
	return nil
}

var _ engine.Notifier = (*Notifier)(nil)
