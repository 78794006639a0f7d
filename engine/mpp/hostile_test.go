package mpp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/mpp"
)

// hostileWallet listens on loopback and answers every connection with
// answer, after reading the request's header and body: a wallet (or
// whatever sits in front of it) that misbehaves at the HTTP level. conns
// counts the connections it accepted.
func hostileWallet(t *testing.T, answer func(net.Conn)) (addr string, conns *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int32)
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				answer(c)
			}()
		}
	}()
	return ln.Addr().String(), conns
}

// raw writes s and keeps the connection open until the client closes it.
func raw(s string) func(net.Conn) {
	return func(c net.Conn) {
		if _, err := io.WriteString(c, s); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
	}
}

// forever writes head, then chunk again and again every pause until the
// client goes away.
func forever(head, chunk string, pause time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		if _, err := io.WriteString(c, head); err != nil {
			return
		}
		for {
			if _, err := io.WriteString(c, chunk); err != nil {
				return
			}
			if pause > 0 {
				time.Sleep(pause) // the drip itself, not synchronisation
			}
		}
	}
}

const okHead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"

// TestHostileWallet: whatever a wallet sends back — an endless or huge
// body, a slow drip, endless headers, a redirect, a 1xx, a 5xx — a pay
// ends by its deadline with an error that leaves the outcome unknown
// (sent, never ErrNotSent, never a result), reads a bounded amount, and
// follows nothing.
func TestHostileWallet(t *testing.T) {
	success := `{"result":` + rS + `,` + paid + `}`
	const timeout = 500 * time.Millisecond
	cases := []struct {
		name   string
		answer func(net.Conn)
		kinds  []error // the error matches one of these
	}{
		{"content-length above the limit", raw(okHead + "Content-Length: 104857600\r\n\r\n" + strings.Repeat("x", 1<<16)),
			[]error{mpp.ErrTransport, mpp.ErrBadAnswer}},
		{"endless chunked body", forever(okHead+"Transfer-Encoding: chunked\r\n\r\n", "4000\r\n"+strings.Repeat("x", 0x4000)+"\r\n", 0),
			[]error{mpp.ErrTransport, mpp.ErrBadAnswer, mpp.ErrTimeout}},
		{"endless body without length", forever(okHead+"Connection: close\r\n\r\n", strings.Repeat("x", 1<<14), 0),
			[]error{mpp.ErrTransport, mpp.ErrBadAnswer, mpp.ErrTimeout}},
		{"slow drip within the limit", forever(okHead+"Content-Length: 60000\r\n\r\n", "x", 20*time.Millisecond),
			[]error{mpp.ErrTimeout}},
		{"headers dripping forever", forever("HTTP/1.1 200 OK\r\n", "X-A: a\r\n", 20*time.Millisecond),
			[]error{mpp.ErrTimeout, mpp.ErrTransport}},
		{"endless headers", forever("HTTP/1.1 200 OK\r\n", "X-A: "+strings.Repeat("a", 1000)+"\r\n", 0),
			[]error{mpp.ErrTransport, mpp.ErrBadAnswer, mpp.ErrTimeout}},
		{"redirect", raw("HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\n\r\n"),
			[]error{mpp.ErrHTTPStatus}},
		{"permanent redirect with a success body", raw(fmt.Sprintf("HTTP/1.1 308 Permanent Redirect\r\nLocation: /elsewhere\r\nContent-Length: %d\r\n\r\n%s", len(success), success)),
			[]error{mpp.ErrHTTPStatus}},
		{"early hints only", raw("HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"),
			[]error{mpp.ErrHTTPStatus, mpp.ErrTimeout, mpp.ErrTransport}},
		{"503 with a success body", raw(fmt.Sprintf("HTTP/1.1 503 Service Unavailable\r\nContent-Length: %d\r\n\r\n%s", len(success), success)),
			[]error{mpp.ErrHTTPStatus}},
		{"closed before the status line", func(net.Conn) {}, []error{mpp.ErrTransport}},
		{"truncated JSON", raw(okHead + "Content-Length: 20\r\n\r\n" + success[:20]), []error{mpp.ErrBadAnswer}},
		{"body shorter than its length", raw(okHead + "Content-Length: 400\r\n\r\n" + success[:20]),
			[]error{mpp.ErrTransport, mpp.ErrTimeout}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, conns := hostileWallet(t, tc.answer)
			c := newClient(t, mpp.Config{BaseURL: "http://" + addr, Timeout: timeout,
				Breaker: mpp.BreakerConfig{Disabled: true}})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			got, err := c.Pay(context.Background(), walletPay("p1", code(1, 0), 100))
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			t.Logf("%v after %v, %d bytes allocated", err, elapsed.Round(time.Millisecond), after.TotalAlloc-before.TotalAlloc)
			if err == nil || got != (engine.WalletResult{}) {
				t.Fatalf("got %+v, %v; want an error and no result", got, err)
			}
			if errors.Is(err, mpp.ErrNotSent) {
				t.Fatalf("%v: ErrNotSent, but the request was sent", err)
			}
			matched := false
			for _, k := range tc.kinds {
				matched = matched || errors.Is(err, k)
			}
			if !matched {
				t.Fatalf("%v: want one of %v", err, tc.kinds)
			}
			// The deadline bounds the whole call, not each read: a drip
			// that keeps every read short still ends by then.
			if elapsed > timeout+2*time.Second {
				t.Fatalf("took %v with a %v timeout", elapsed, timeout)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Fatalf("allocated %d bytes reading a hostile answer", alloc)
			}
			if n := conns.Load(); n != 1 {
				t.Fatalf("%d connections: the client retried or followed something", n)
			}
		})
	}
}
