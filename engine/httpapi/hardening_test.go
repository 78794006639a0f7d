package httpapi_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// TestSignedWallets: with the wallets signed, paycode signs every request
// to them and verifies every answer; the simulated wallets verify and
// sign. A wallet whose answers do not verify (wrong key on file) is
// never believed: the pay stays in process.
func TestSignedWallets(t *testing.T) {
	e := newSignedE2E(t, signedOpts{simSigning: true})
	l := e.lane(merchantID)
	for i, pfx := range []string{"281001", "281003", "281010", "281011"} {
		a := l.send("pay", payBody(fmt.Sprint("w-", i), e.testCode(pfx, i, 3), 100)).mustVerify(t, pfx)
		if a.Result.Code != "SUCCESS" {
			t.Fatalf("%s: %s", pfx, a.raw)
		}
		l.agree(a.PaymentID, 100)
		r := l.send("refund", refundBody(fmt.Sprint("wr-", i), a.PaymentID, 100)).mustVerify(t, "refund")
		if r.Result.Code != "SUCCESS" {
			t.Fatalf("refund at %s: %s", pfx, r.raw)
		}
	}
	// An unsigned request straight to a simulated wallet is refused.
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(e.st.Sim.URL("mpp-281001") + "/aps/api/v1/payments/inquiryPayment")
	req.Header.SetMethod("POST")
	req.SetBodyString(`{"paymentRequestId":"x"}`)
	if err := fasthttp.Do(req, resp); err != nil || !strings.Contains(string(resp.Body()), "INVALID_SIGNATURE") {
		t.Fatalf("unsigned request to a wallet: %v %s", err, resp.Body())
	}
}

// TestOverloadShedsNewPaysFirst: with room for two requests, one held
// for follow-ups, a pay blocked at its wallet fills the room for new
// pays: the next pay is shed at once with REQUEST_TRAFFIC_EXCEED_LIMIT
// (U, signed), while an inquiry is still served; once the wallet answers
// the shed pay goes through on retry and nothing is lost.
func TestOverloadShedsNewPaysFirst(t *testing.T) {
	gate := make(chan struct{})
	entered := make(chan struct{}, 16)
	var blocking atomic.Bool
	blocking.Store(true)
	e := newSignedE2E(t, signedOpts{
		security: func(s *httpapi.Security) { s.MaxInFlight, s.FollowUpReserve = 2, 1 },
		engine:   func(c *engine.Config) { c.PayTimeout = 10 * time.Second },
		sim: func(c *mppsim.Config) {
			c.Sleep = func(ctx context.Context, d time.Duration) {
				if blocking.Load() {
					entered <- struct{}{}
					select {
					case <-gate:
					case <-ctx.Done():
					}
				}
			}
		},
	})
	l := e.lane(merchantID)
	first := make(chan signedAnswer, 1)
	go func() { first <- l.send("pay", payBody("ov-1", e.testCode("281001", 1, 1), 100)) }()
	<-entered // the pay is at its wallet, holding a slot

	start := time.Now()
	shed := l.send("pay", payBody("ov-2", e.testCode("281001", 2, 1), 100)).mustVerify(t, "shed")
	if shed.Result.Code != "REQUEST_TRAFFIC_EXCEED_LIMIT" || shed.Result.Status != "U" {
		t.Fatalf("second pay: %s", shed.raw)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shedding took %v", d)
	}
	// Follow-up work still has its slot.
	q := l.send("inquiryPayment", `{"paymentRequestId":"ov-1"}`).mustVerify(t, "inquiry")
	if q.Result.Code != "SUCCESS" || q.PaymentStatus != "PROCESSING" {
		t.Fatalf("inquiry under load: %s", q.raw)
	}
	blocking.Store(false)
	close(gate)
	if a := <-first; a.Result.Code != "SUCCESS" || a.verifyErr != nil {
		t.Fatalf("admitted pay: %s %v", a.raw, a.verifyErr)
	}
	if a := l.send("pay", payBody("ov-2", e.testCode("281001", 2, 1), 100)).mustVerify(t, "retry"); a.Result.Code != "SUCCESS" {
		t.Fatalf("retried pay: %s", a.raw)
	}
	if d := e.st.Engine.Stats().Dispatched.Load(); d != 2 {
		t.Fatalf("dispatched %d", d)
	}
	if s, _ := e.st.API.SecurityStats(); s != 1 {
		t.Fatalf("shed counter %d", s)
	}
}

// TestOverloadAtThreeTimesCapacity: 3× as many pays as there is room for
// arrive at once at a wallet that takes 200 ms. The admitted ones take
// the wallet's time and succeed, the rest are shed faster than any
// admitted one finishes, and the ledgers agree with every answer.
func TestOverloadAtThreeTimesCapacity(t *testing.T) {
	const capacity, walletTime = 3, 200 * time.Millisecond
	e := newSignedE2E(t, signedOpts{
		security: func(s *httpapi.Security) { s.MaxInFlight, s.FollowUpReserve = capacity+1, 1 },
		engine:   func(c *engine.Config) { c.PayTimeout = 5 * time.Second },
		sim: func(c *mppsim.Config) {
			c.Sleep = func(ctx context.Context, d time.Duration) { time.Sleep(walletTime) }
		},
	})
	// Warm the shed answer's signature so shedding is what is measured.
	type res struct {
		a   signedAnswer
		d   time.Duration
		req string
	}
	out := make(chan res, 3*capacity)
	var ready, wg sync.WaitGroup
	startGun := make(chan struct{})
	for i := 0; i < 3*capacity; i++ {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := e.lane(merchantID)
			id := fmt.Sprint("x3-", i)
			body := payBody(id, e.testCode("281011", i, 5), 100)
			ready.Done()
			<-startGun
			s := time.Now()
			a := l.send("pay", body)
			out <- res{a, time.Since(s), id}
		}()
	}
	ready.Wait()
	close(startGun)
	wg.Wait()
	close(out)
	var admitted, shed []res
	for r := range out {
		if r.a.verifyErr != nil {
			t.Fatalf("%s: answer does not verify: %v", r.req, r.a.verifyErr)
		}
		switch r.a.Result.Code {
		case "SUCCESS":
			admitted = append(admitted, r)
		case "REQUEST_TRAFFIC_EXCEED_LIMIT":
			shed = append(shed, r)
		default:
			t.Fatalf("%s: %s", r.req, r.a.raw)
		}
	}
	if len(admitted) < capacity || len(shed) == 0 {
		t.Fatalf("admitted %d, shed %d", len(admitted), len(shed))
	}
	minAdmitted := time.Hour
	for _, r := range admitted {
		minAdmitted = min(minAdmitted, r.d)
		if r.d < walletTime {
			t.Errorf("admitted pay answered in %v, before its wallet", r.d)
		}
		e.lane(merchantID).agree(r.a.PaymentID, 100)
	}
	for _, r := range shed {
		if r.d >= minAdmitted {
			t.Errorf("a shed pay took %v, an admitted one %v", r.d, minAdmitted)
		}
	}
	if d := e.st.Engine.Stats().Dispatched.Load(); d != int64(len(admitted)) {
		t.Fatalf("dispatched %d, admitted %d", d, len(admitted))
	}
	t.Logf("admitted %d (fastest %v), shed %d", len(admitted), minAdmitted, len(shed))
}

// laneServer serves the stack's API on a new listener with a short read
// timeout, so slow clients are cut within the test.
func laneServer(t *testing.T, e *e2e, readTimeout time.Duration) string {
	t.Helper()
	srv := e.st.API.NewFastHTTPServer()
	srv.ReadTimeout = readTimeout
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

// TestSlowlorisAndOversizedBodies: hundreds of connections trickling
// header bytes, and clients sending bodies over the limit, while a
// legitimate signed lane keeps being served promptly. The slow
// connections are closed once the read timeout passes, and the heap
// stays bounded.
func TestSlowlorisAndOversizedBodies(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	const readTimeout = time.Second
	addr := laneServer(t, e, readTimeout)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	const slow = 300
	conns := make([]net.Conn, 0, slow)
	for i := 0; i < slow; i++ {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\n")
	}
	stop := make(chan struct{})
	var trickle sync.WaitGroup
	trickle.Add(1)
	go func() { // one more header byte per connection every 100 ms
		defer trickle.Done()
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				for _, c := range conns {
					c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
					c.Write([]byte("X"))
				}
			}
		}
	}()
	// Oversized bodies, declared and trickled.
	var big sync.WaitGroup
	for i := 0; i < 20; i++ {
		big.Add(1)
		go func() {
			defer big.Done()
			c, err := net.Dial("tcp4", addr)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "POST /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\nclient-id: %s\r\nContent-Length: %d\r\n\r\n", merchantID, 64<<20)
			c.Write([]byte(strings.Repeat("a", 32<<10)))
			io.Copy(io.Discard, c)
		}()
	}
	// The legitimate lane, on the same listener.
	l := e.lane(merchantID)
	l.hc = &fasthttp.HostClient{Addr: addr, DisableHeaderNamesNormalizing: true, ReadTimeout: 5 * time.Second}
	for i := 0; i < 20; i++ {
		s := time.Now()
		a := l.send("pay", payBody(fmt.Sprint("sl-", i), e.testCode("281011", 500+i, 1), 100)).mustVerify(t, "lane")
		if a.Result.Code != "SUCCESS" {
			t.Fatalf("lane pay %d: %s", i, a.raw)
		}
		if d := time.Since(s); d > 500*time.Millisecond {
			t.Fatalf("lane pay %d took %v under slowloris", i, d)
		}
		time.Sleep(25 * time.Millisecond)
	}
	big.Wait()
	// Past the read timeout every slow connection is closed by paycode.
	time.Sleep(readTimeout + 500*time.Millisecond)
	close(stop)
	trickle.Wait()
	closed := 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadAll(c); err == nil || !isTimeout(err) {
			closed++
		}
		c.Close()
	}
	if closed != slow {
		t.Fatalf("%d of %d slow connections still open after the read timeout", slow-closed, slow)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grow := int64(after.HeapInuse) - int64(before.HeapInuse); grow > 64<<20 {
		t.Fatalf("heap grew by %d MiB", grow>>20)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestRequestSmugglingRejected: the pinned fasthttp refuses a request with
// both Content-Length and Transfer-Encoding; the answer is an Antom
// result, the connection is closed and the smuggled request never runs.
func TestRequestSmugglingRejected(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	smuggled := payBody("smuggled", e.testCode("281001", 9, 1), 100)
	for _, framing := range []string{
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
		"Content-Length: 5\r\nContent-Length: 60\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
	} {
		c, err := net.Dial("tcp4", e.st.Addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "POST /ams/api/v1/payments/inquiryPayment HTTP/1.1\r\nHost: x\r\nclient-id: %s\r\n%s\r\n0\r\n\r\n"+
			"POST /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\nclient-id: %s\r\nContent-Length: %d\r\n\r\n%s",
			trustedID, framing, trustedID, len(smuggled), smuggled)
		all, _ := io.ReadAll(bufio.NewReader(c))
		c.Close()
		got := string(all)
		if n := strings.Count(got, "HTTP/1.1 "); n != 1 || !strings.Contains(got, "PARAM_ILLEGAL") {
			t.Fatalf("%q: %d answers: %s", framing, n, got)
		}
	}
	if n := e.st.Engine.Stats().Pays.Load(); n != 0 {
		t.Fatalf("a smuggled pay reached the engine (%d)", n)
	}
}

// TestMutualTLS: the lane listener over TLS asks for client certificates;
// a lane with one signed by the configured CA is served, one without is
// refused at the handshake, and a certificate not named for the client
// id gets ACCESS_DENIED.
func TestMutualTLS(t *testing.T) {
	ca, caKey := newCA(t)
	serverCert := leafCert(t, ca, caKey, "paycode", []net.IP{net.ParseIP("127.0.0.1")})
	laneCert := leafCert(t, ca, caKey, "lane7", nil)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	e := newSignedE2E(t, signedOpts{
		tls: &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12},
		security: func(s *httpapi.Security) {
			s.Clients["LANE-9"] = &httpapi.Client{Policy: httpapi.PolicyNone, TLSNames: []string{"lane9"}}
			s.Clients[merchantID].TLSNames = []string{"lane7"}
		},
	})
	if !strings.HasPrefix(e.st.URL(), "https://") {
		t.Fatal(e.st.URL())
	}
	l := e.lane(merchantID)
	l.hc.TLSConfig = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{laneCert}}
	if a := l.send("pay", payBody("tls-1", e.testCode("281001", 1, 1), 100)).mustVerify(t, "mtls"); a.Result.Code != "SUCCESS" {
		t.Fatalf("%s", a.raw)
	}
	other := e.lane("LANE-9")
	other.hc.TLSConfig = l.hc.TLSConfig
	if a := other.send("pay", payBody("tls-2", e.testCode("281001", 2, 1), 100)); a.Result.Code != "ACCESS_DENIED" {
		t.Fatalf("wrong certificate name: %s", a.raw)
	}
	noCert := &fasthttp.HostClient{Addr: e.st.Addr, IsTLS: true, TLSConfig: &tls.Config{RootCAs: pool}}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(e.st.URL() + "/ams/api/v1/payments/inquiryPayment")
	req.Header.SetMethod("POST")
	if err := noCert.DoTimeout(req, resp, 5*time.Second); err == nil {
		t.Fatalf("served without a client certificate: %s", resp.Body())
	}
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func leafCert(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, ips []net.IP) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, IPAddresses: ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
