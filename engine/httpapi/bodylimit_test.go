package httpapi_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/decodetest"
	"github.com/paycode/paycode/engine/httpapi"
)

// countingListener counts the bytes the server reads on each connection,
// by the client's address.
type countingListener struct {
	net.Listener
	read sync.Map // client address -> *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := new(atomic.Int64)
	l.read.Store(c.RemoteAddr().String(), n)
	return &countingConn{Conn: c, n: n}, nil
}

// readBy is how many bytes the server read from the client connection c.
func (l *countingListener) readBy(c net.Conn) int64 {
	if n, ok := l.read.Load(c.LocalAddr().String()); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// imageMaxBytes is the decoder's MaxBytes in these tests: the image
// routes' body limit is this plus the JSON part and multipart framing.
const imageMaxBytes = 1 << 20

// startLaneListener serves a lane handler with a decoder (imageMaxBytes)
// and the given image body budget (0: the default) on a loopback
// listener that counts the bytes it reads.
func startLaneListener(t *testing.T, budget int64) (*httpapi.Server, *countingListener) {
	t.Helper()
	return startLaneListenerWith(t, budget, httpapi.DefaultReadTimeout)
}

func startLaneListenerWith(t *testing.T, budget int64, readTimeout time.Duration) (*httpapi.Server, *countingListener) {
	t.Helper()
	api, _, _ := newImageAPI(t, decode.Config{MaxBytes: imageMaxBytes})
	api.SetImageBodyBudget(budget)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	srv := api.NewFastHTTPServer()
	srv.ReadTimeout = readTimeout
	done := make(chan struct{})
	go func() { srv.Serve(cl); close(done) }()
	t.Cleanup(func() { srv.Shutdown(); <-done })
	return api, cl
}

// sendHeaders opens a connection and sends a POST's request line and
// headers (extra: more header lines, each ending in \r\n), no body.
func sendHeaders(t *testing.T, addr, path, extra string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: lane\r\nclient-id: C1\r\n%s\r\n", path, extra); err != nil {
		t.Fatal(err)
	}
	return c
}

// answerWithin reads what the server sends on c until it closes the
// connection or d passes; timedOut says the server neither answered in
// full nor closed.
func answerWithin(c net.Conn, d time.Duration) (b []byte, timedOut bool) {
	c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c)
	var ne net.Error
	return b, errors.As(err, &ne) && ne.Timeout()
}

// The lane routes' body limits hold before the body is read: a request
// whose Content-Length is over its route's limit is answered at once,
// having had none of its body read, and a JSON route's limit is 64 KiB
// even though the image routes take more.
func TestBodyLimitPerRoute(t *testing.T) {
	_, ln := startLaneListener(t, 0)
	imageLimit := imageMaxBytes + httpapi.MaxRequestPartSize + 16<<10
	for _, tc := range []struct {
		name, path, contentType string
		contentLength           int
		msg                     string
	}{
		{"pay JSON", "/ams/api/v1/payments/pay", "application/json", httpapi.DefaultMaxBodySize + 1, "the request body exceeds 65536 bytes"},
		{"pay JSON, megabytes", "/ams/api/v1/payments/pay", "application/json", 8 << 20, "the request body exceeds 65536 bytes"},
		{"sandbox pay JSON", "/ams/sandbox/api/v1/payments/pay", "application/json", httpapi.DefaultMaxBodySize + 1, "the request body exceeds 65536 bytes"},
		{"inquiryPayment", "/ams/api/v1/payments/inquiryPayment", "application/json", httpapi.DefaultMaxBodySize + 1, "the request body exceeds 65536 bytes"},
		{"cancel", "/ams/api/v1/payments/cancel", "application/json", imageLimit, "the request body exceeds 65536 bytes"},
		{"refund", "/ams/api/v1/payments/refund", "application/json", httpapi.DefaultMaxBodySize + 1, "the request body exceeds 65536 bytes"},
		{"inquiryRefund", "/ams/api/v1/payments/inquiryRefund", "application/json", httpapi.DefaultMaxBodySize + 1, "the request body exceeds 65536 bytes"},
		{"no API, multipart", "/ams/api/v1/payments/other", "multipart/form-data; boundary=x", httpapi.DefaultMaxBodySize + 1, "the request body exceeds 65536 bytes"},
		{"refund, multipart", "/ams/api/v1/payments/refund", "multipart/form-data; boundary=x", httpapi.DefaultMaxBodySize + 1, "the request body exceeds 65536 bytes"},
		{"pay by image", "/ams/api/v1/payments/pay", "multipart/form-data; boundary=x", imageLimit + 1, fmt.Sprintf("the request body exceeds %d bytes", imageLimit)},
		{"decode", httpapi.DecodePath, "image/png", imageLimit + 1, fmt.Sprintf("the request body exceeds %d bytes", imageLimit)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sendHeaders(t, ln.Addr().String(), tc.path, fmt.Sprintf("Content-Type: %s\r\nContent-Length: %d\r\n", tc.contentType, tc.contentLength))
			b, timedOut := answerWithin(c, 5*time.Second)
			if timedOut {
				t.Fatalf("not answered: the server waits for a body of %d bytes (read %d bytes)", tc.contentLength, ln.readBy(c))
			}
			if !bytes.Contains(b, []byte(`"resultCode":"PARAM_ILLEGAL"`)) || !bytes.Contains(b, []byte(tc.msg)) {
				t.Fatalf("answer %q, want PARAM_ILLEGAL %q", b, tc.msg)
			}
		})
	}
}

// A chunked body, whose size the headers do not give, is cut off past
// its route's limit: the server reads at most 64 KiB of it (plus what
// one read of its buffer takes in) on a JSON route.
func TestChunkedBodyCutOff(t *testing.T) {
	_, ln := startLaneListener(t, 0)
	c := sendHeaders(t, ln.Addr().String(), "/ams/api/v1/payments/pay", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n")
	const sent = 1 << 20
	go func() { // the hostile lane: 1 MiB in 16 KiB chunks, or until refused
		chunk := append(append([]byte("4000\r\n"), bytes.Repeat([]byte("a"), 16<<10)...), "\r\n"...)
		for n := 0; n < sent; n += 16 << 10 {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}()
	b, timedOut := answerWithin(c, 5*time.Second)
	read := ln.readBy(c)
	if timedOut {
		t.Fatalf("the server neither refused nor closed (read %d bytes)", read)
	}
	// The answer may be lost to the reset of a close with unread data;
	// when it arrived it is the limit's.
	if len(b) > 0 && !bytes.Contains(b, []byte("the request body exceeds 65536 bytes")) {
		t.Fatalf("answer %q", b)
	}
	if limit := int64(httpapi.DefaultMaxBodySize + 2*httpapi.DefaultMaxHeaderSize + 16<<10 + 64); read > limit {
		t.Fatalf("the server read %d bytes of a chunked JSON body, want at most %d", read, limit)
	}
}

// heapInUse is the heap in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// Hostile connections that announce big bodies and stall cost the node
// at most 64 KiB each on a JSON route, and together at most the image
// budget on the image routes; a legitimate pay on another connection
// meanwhile succeeds, and the budget comes back when they disconnect
// mid-body.
func TestHostileBodiesBounded(t *testing.T) {
	const budget = 3 << 20
	api, ln := startLaneListener(t, budget)
	addr := ln.Addr().String()
	before := heapInUse()

	// JSON routes: each stalled connection announcing 1 MiB (under the
	// image routes' limit) is refused at once, none of its body read.
	const conns = 16
	for i := range conns {
		c := sendHeaders(t, addr, "/ams/api/v1/payments/pay", "Content-Type: application/json\r\nContent-Length: 1048576\r\n")
		c.Write(bytes.Repeat([]byte("{"), 1024))
		b, timedOut := answerWithin(c, 5*time.Second)
		if timedOut || !bytes.Contains(b, []byte("the request body exceeds 65536 bytes")) {
			t.Fatalf("JSON connection %d: answer %q, timed out %v (read %d bytes)", i, b, timedOut, ln.readBy(c))
		}
	}
	// Image route: 1 MiB bodies that stall after 1 KiB; the first three
	// take the budget, the rest are shed without being read.
	const body = 1 << 20
	var stalled []net.Conn
	shed := 0
	for i := range conns {
		c := sendHeaders(t, addr, httpapi.DecodePath, fmt.Sprintf("Content-Type: image/png\r\nContent-Length: %d\r\n", body))
		c.Write(bytes.Repeat([]byte{0x89}, 1024))
		if i < budget/body {
			stalled = append(stalled, c)
			waitBudget(t, api, int64(len(stalled)*body))
			continue
		}
		b, timedOut := answerWithin(c, 5*time.Second)
		if timedOut || !bytes.Contains(b, []byte(`"resultCode":"REQUEST_TRAFFIC_EXCEED_LIMIT","resultStatus":"U"`)) {
			t.Fatalf("image connection %d over the budget: answer %q, timed out %v", i, b, timedOut)
		}
		if r := ln.readBy(c); r > 8<<10 {
			t.Fatalf("image connection %d over the budget: %d bytes read", i, r)
		}
		shed++
	}
	if _, used := api.ImageBodyBudget(); used > budget {
		t.Fatalf("image bytes in flight %d over the budget %d", used, budget)
	}
	grew := heapInUse() - before
	t.Logf("%d JSON and %d image connections (%d shed): heap in use grew %d KiB", conns, conns, shed, grew>>10)
	if limit := int64(budget + 2*conns*(64<<10) + 4<<20); grew > limit {
		t.Fatalf("heap in use grew %d bytes, want at most %d", grew, limit)
	}

	// A legitimate pay meanwhile, on its own connection.
	code := fmt.Sprintf("28100102%014d%02d", 7, 7)
	p := payBody("limits-pay", code, 5600)
	c := sendHeaders(t, addr, "/ams/api/v1/payments/pay", fmt.Sprintf("Content-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n", len(p)))
	c.Write([]byte(p))
	if b, _ := answerWithin(c, 10*time.Second); !bytes.Contains(b, []byte(`"resultCode":"SUCCESS"`)) {
		t.Fatalf("a pay beside the hostile connections: %q", b)
	}

	// The hostile lanes hang up mid-body: the budget is free again and a
	// pay by image goes through.
	for _, c := range stalled {
		c.Close()
	}
	waitBudget(t, api, 0)
	img := decodetest.PNG(t, decodetest.QR(t, fmt.Sprintf("28100102%014d%02d", 8, 8), 240))
	mb, ct := multipartBody(t, formPart{"request", "application/json", []byte(payBody("limits-image", "", 5600))}, formPart{"image", "image/png", img})
	var req fasthttp.Request
	var resp fasthttp.Response
	req.SetRequestURI("http://" + addr + "/ams/api/v1/payments/pay")
	req.Header.SetMethod("POST")
	req.Header.Set("client-id", "C1")
	req.Header.SetContentType(ct)
	req.SetBody(mb)
	if err := fasthttp.DoTimeout(&req, &resp, 10*time.Second); err != nil || !bytes.Contains(resp.Body(), []byte(`"resultCode":"SUCCESS"`)) {
		t.Fatalf("pay by image after the hang-ups: %v %q", err, resp.Body())
	}
	if _, used := api.ImageBodyBudget(); used != 0 {
		t.Fatalf("%d image bytes still taken after the pay by image", used)
	}
}

// waitBudget waits until the image bytes taken are want: the server takes
// and returns shares on its connection goroutines.
func waitBudget(t *testing.T, api *httpapi.Server, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, used := api.ImageBodyBudget()
		if used == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("image bytes taken %d, want %d", used, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// An image body that stalls past the read timeout returns its share of
// the budget when fasthttp gives up on it, as a hang-up does.
func TestImageBudgetAfterReadTimeout(t *testing.T) {
	api, ln := startLaneListenerWith(t, 0, 300*time.Millisecond)
	c := sendHeaders(t, ln.Addr().String(), httpapi.DecodePath, "Content-Type: image/png\r\nContent-Length: 500000\r\n")
	c.Write(bytes.Repeat([]byte{0x89}, 1024))
	waitBudget(t, api, 500000)
	b, timedOut := answerWithin(c, 5*time.Second) // the server gives up and closes
	if timedOut {
		t.Fatalf("the server kept a stalled body past its read timeout")
	}
	if len(b) != 0 {
		t.Fatalf("a timed-out request was answered: %q", b)
	}
	waitBudget(t, api, 0)
}
