package notify_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/paycode/paycode/engine/notify"
)

// TestHostileReceiver: a merchant endpoint that answers too much or too
// slowly holds a delivery no longer than notify.timeout and no more than
// the answer limit; neither is an acknowledgement.
func TestHostileReceiver(t *testing.T) {
	const timeout = 300 * time.Millisecond
	n, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"127.0.0.1"}, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	huge := serve(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetBodyString(ack[:len(ack)-1] + `,"pad":"` + strings.Repeat("x", 1<<20) + `"}`)
	})
	if err := n.Notify(context.Background(), "C", huge+"/n", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "body size exceeds") {
		t.Fatalf("a 1 MiB acknowledgement: %v", err)
	}
	stop := make(chan struct{})
	slow := serve(t, func(ctx *fasthttp.RequestCtx) {
		select { // answers only after the test, long past the timeout
		case <-stop:
		case <-time.After(time.Minute):
		}
		ctx.SetBodyString(ack)
	})
	start := time.Now()
	err = n.Notify(context.Background(), "C", slow+"/n", []byte(`{}`))
	close(stop)
	if elapsed := time.Since(start); err == nil || elapsed > timeout+2*time.Second {
		t.Fatalf("a receiver that never answers: %v after %v (timeout %v)", err, elapsed, timeout)
	}
}

// TestDestinationsInOtherSpellings: loopback and an own listener written
// as an IPv4-mapped IPv6 address, as a decimal or hex integer, or in the
// short dotted forms some resolvers accept, are refused — at arrival or,
// for what parses as a name, when paycode connects — and the listener
// never sees a connection. The names are looked up through an in-test
// DNS server that answers every name with 127.0.0.1, as a resolver that
// reads them as addresses (glibc's inet_aton does) would: hermetic, and
// the connect-time check is what refuses them.
func TestDestinationsInOtherSpellings(t *testing.T) {
	port, conns := countingReceiver(t)
	dns, asked := loopbackDNS(t)

	strict, err := notify.New(notify.Config{AllowHTTP: true, Resolver: dns})
	if err != nil {
		t.Fatal(err)
	}
	// Loopback allowed, but the listener is paycode's own.
	own, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"127.0.0.0/8", "::1"}, Resolver: dns})
	if err != nil {
		t.Fatal(err)
	}
	if err := own.Refuse("127.0.0.1:" + port); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		// how it fails: "arrival" (an address literal, refused before
		// any connection), "connect" (a name, resolved to 127.0.0.1 by
		// the test's DNS and refused on that address when dialled),
		// "numeric" (a name with an all-digit last label, which Go's
		// resolver refuses to look up: no such host, nobody asked).
		how string
	}{
		{"[::ffff:127.0.0.1]", "arrival"}, {"[::ffff:7f00:1]", "arrival"}, {"[0:0:0:0:0:ffff:127.0.0.1]", "arrival"},
		{"2130706433", "numeric"}, {"0177.0.0.1", "numeric"}, {"127.1", "numeric"},
		{"0x7f000001", "connect"}, {"0x7f.0.0.1", "connect"},
	}
	for _, tt := range tests {
		url := "http://" + tt.host + ":" + port + "/n"
		for name, n := range map[string]*notify.Notifier{"strict": strict, "own": own} {
			err := n.Notify(context.Background(), "C", url, []byte(`{}`))
			t.Logf("%s %s: %v", name, url, err)
			var dnsErr *net.DNSError
			switch {
			case err == nil:
				t.Errorf("%s: %s delivered", name, url)
			case tt.how == "numeric":
				if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
					t.Errorf("%s: %s: %v, want no such host", name, url, err)
				}
			case !errors.Is(err, notify.ErrDestination):
				t.Errorf("%s: %s: %v, want ErrDestination", name, url, err)
			}
		}
		if host := strings.Trim(tt.host, "[]"); asked(host) != (tt.how == "connect") {
			t.Errorf("%s (%s): looked up through the test's DNS: %v", tt.host, tt.how, asked(host))
		}
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the refused listener saw %d connections", n)
	}
}

// loopbackDNS starts a DNS server on loopback UDP that answers every A
// question with 127.0.0.1 (and AAAA with nothing), and returns a
// resolver that asks only it, and whether a name was asked.
func loopbackDNS(t *testing.T) (*net.Resolver, func(name string) bool) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	var mu sync.Mutex
	names := map[string]bool{}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var m dnsmessage.Message
			if m.Unpack(buf[:n]) != nil || len(m.Questions) == 0 {
				continue
			}
			q := m.Questions[0]
			mu.Lock()
			names[strings.TrimSuffix(q.Name.String(), ".")] = true
			mu.Unlock()
			m.Header.Response, m.Header.Authoritative, m.Header.RCode = true, true, dnsmessage.RCodeSuccess
			m.Answers = nil
			if q.Type == dnsmessage.TypeA {
				m.Answers = []dnsmessage.Resource{{
					Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
					Body:   &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}},
				}}
			}
			if out, err := m.Pack(); err == nil {
				pc.WriteTo(out, from)
			}
		}
	}()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
	return r, func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		for n := range names {
			if n == name || strings.HasPrefix(n, name+".") {
				return true
			}
		}
		return false
	}
}
