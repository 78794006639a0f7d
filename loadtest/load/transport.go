package load

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// FastTransport is an http.RoundTripper over fasthttp, for vegeta's
// Attacker (vegeta.Client). net/http's transport runs two goroutines per
// connection and hands every request from the caller to the writer and
// the answer from the reader back to the caller; at thousands of
// requests per second those hand-offs and their wake-ups cost the
// generator more CPU than the bare server it measures spends on the same
// request. fasthttp writes and reads on the caller's goroutine over kept
// connections, so the generator's cost per request falls below the
// server's (bench/loadgen.sh measures both).
//
// Only what a load run needs is carried across: method, URL, headers and
// body out; status, headers and body back. It never follows redirects.
type FastTransport struct {
	// Client does the requests; connection limits live there
	// (MaxConnsPerHost, MaxIdleConnDuration).
	Client *fasthttp.Client
	// Timeout bounds each request (DefaultTimeout when 0).
	Timeout time.Duration
}

var _ http.RoundTripper = (*FastTransport)(nil)

// NewFastTransport returns a FastTransport keeping up to maxConns
// connections per host alive between requests.
func NewFastTransport(maxConns int, timeout time.Duration) *FastTransport {
	return &FastTransport{
		Timeout: timeout,
		Client: &fasthttp.Client{
			MaxConnsPerHost:               maxConns,
			MaxIdleConnDuration:           time.Minute,
			ConnPoolStrategy:              fasthttp.LIFO,
			NoDefaultUserAgentHeader:      true,
			DisableHeaderNamesNormalizing: true,
			DisablePathNormalizing:        true,
			ReadBufferSize:                8 << 10,
			WriteBufferSize:               8 << 10,
			// A load test never retries: a retried pay would be a second
			// request the results do not show.
			RetryIfErr: func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		},
	}
}

// RoundTrip implements http.RoundTripper.
func (t *FastTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	freq, fresp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(freq)
	defer fasthttp.ReleaseResponse(fresp)
	freq.Header.DisableNormalizing()
	freq.Header.SetMethod(req.Method)
	freq.SetRequestURI(req.URL.String())
	for k, vs := range req.Header {
		for _, v := range vs {
			freq.Header.Add(k, v)
		}
	}
	if req.Body != nil {
		if _, err := io.Copy(freq.BodyWriter(), req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := t.Client.DoTimeout(freq, fresp, timeout); err != nil {
		if errors.Is(err, fasthttp.ErrTimeout) {
			return nil, errTimeout
		}
		return nil, err
	}
	code := fresp.StatusCode()
	resp := &http.Response{
		StatusCode:    code,
		Status:        strconv.Itoa(code) + " " + http.StatusText(code),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header, fresp.Header.Len()),
		ContentLength: int64(len(fresp.Body())),
		Request:       req,
	}
	for k, v := range fresp.Header.All() {
		key := http.CanonicalHeaderKey(string(k))
		resp.Header[key] = append(resp.Header[key], string(v))
	}
	resp.Body = io.NopCloser(bytes.NewReader(append([]byte(nil), fresp.Body()...)))
	return resp, nil
}

// errTimeout reads like net/http's, so results and reports name it the
// same way whichever transport ran.
var errTimeout = errors.New("Client.Timeout exceeded while awaiting headers")
