package notify_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/notify"
)

// TestDestinationsRefusedAtArrival: the arrival check refuses http
// unless allowed and literal addresses in the refused ranges unless an
// allow-list admits them; names pass (they are checked when dialled).
func TestDestinationsRefusedAtArrival(t *testing.T) {
	n, err := notify.New(notify.Config{Clients: map[string][]string{"C-LAN": {"10.1.0.0/16", "hooks.internal"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Refuse("203.0.113.9:9090"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		client, url string
		want        error
	}{
		{"C", "https://merchant.example/n", nil},
		{"C", "https://93.184.216.34/n", nil},
		{"C", "http://merchant.example/n", notify.ErrHTTP},
		{"C", "https://127.0.0.1/n", notify.ErrDestination},
		{"C", "https://127.9.9.9:9090/n", notify.ErrDestination},
		{"C", "https://[::1]/n", notify.ErrDestination},
		{"C", "https://[::ffff:10.0.0.1]/n", notify.ErrDestination},
		{"C", "https://10.1.2.3/n", notify.ErrDestination},
		{"C", "https://172.16.0.1/n", notify.ErrDestination},
		{"C", "https://192.168.1.1/n", notify.ErrDestination},
		{"C", "https://169.254.169.254/latest/meta-data", notify.ErrDestination},
		{"C", "https://0.0.0.0/n", notify.ErrDestination},
		{"C", "https://[::]/n", notify.ErrDestination},
		{"C", "https://100.64.0.1/n", notify.ErrDestination},
		{"C", "https://[fe80::1]/n", notify.ErrDestination},
		{"C", "https://[fd00::1]/n", notify.ErrDestination},
		{"C", "https://[64:ff9b::a00:1]/n", notify.ErrDestination},
		{"C", "https://[2002:a00:1::]/n", notify.ErrDestination},
		{"C", "https://224.0.0.1/n", notify.ErrDestination},
		{"C", "https://203.0.113.9:9090/admin/reload", notify.ErrDestination}, // own listener
		{"C-LAN", "https://10.1.2.3/n", nil},
		{"C-LAN", "https://10.2.0.1/n", notify.ErrDestination},
		{"C-LAN", "https://203.0.113.9:9090/n", notify.ErrDestination}, // own: never allowed
		{"C", "https://localhost/n", nil},                              // a name: checked when dialled
	} {
		if err := n.CheckURL([]byte(c.client), []byte(c.url)); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s %s: %v, want %v", c.client, c.url, err, c.want)
		}
	}
	for _, bad := range [][]string{{""}, {"10.0.0.0/33"}, {"user@host"}} {
		if _, err := notify.New(notify.Config{Allow: bad}); err == nil {
			t.Errorf("allow %q accepted", bad)
		}
	}
}

// TestDestinationsRefusedAtConnect: a name that resolves to a refused
// address (localhost here; DNS rebinding in life) is refused when paycode
// connects: the listener never sees a connection. Own listeners are
// refused even when loopback is allowed. Redirects are not followed.
func TestDestinationsRefusedAtConnect(t *testing.T) {
	port, conns := countingReceiver(t)
	byName := "http://localhost:" + port + "/n"

	strict, err := notify.New(notify.Config{AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := strict.Notify(context.Background(), "C", byName, []byte(`{}`)); !errors.Is(err, notify.ErrDestination) {
		t.Fatalf("a name for loopback: %v", err)
	}
	own, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"127.0.0.0/8", "::1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := own.Refuse("127.0.0.1:" + port); err != nil {
		t.Fatal(err)
	}
	if err := own.Notify(context.Background(), "C", byName, []byte(`{}`)); !errors.Is(err, notify.ErrDestination) {
		t.Fatalf("an own listener by name: %v", err)
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the refused listener saw %d connections", n)
	}
	// Allowed by name: delivered.
	named, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := named.Notify(context.Background(), "C", byName, []byte(`{}`)); err != nil {
		t.Fatalf("an allowed name: %v", err)
	}

	// A redirect to the refused listener is not followed.
	redir := serve(t, func(ctx *fasthttp.RequestCtx) { ctx.Redirect("http://localhost:"+port+"/n", 307) })
	loop, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	before := conns.Load()
	if err := loop.Notify(context.Background(), "C", redir+"/n", []byte(`{}`)); !errors.Is(err, notify.ErrNotAcknowledged) || !strings.Contains(err.Error(), "307") {
		t.Fatalf("redirect: %v", err)
	}
	if conns.Load() != before {
		t.Fatal("the redirect was followed")
	}
}

// countingReceiver starts a receiver on loopback that acknowledges every
// notification, and returns its port and the count of connections made
// to it. New connections only: an earlier delivery's connection going
// idle or closed later is not a new one.
func countingReceiver(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	conns := new(atomic.Int64)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(ack) },
		ConnState: func(_ net.Conn, st fasthttp.ConnState) {
			if st == fasthttp.StateNew {
				conns.Add(1)
			}
		}}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, conns
}

// TestOwnListenerThroughUnspecified: a connection to 0.0.0.0 or [::]
// reaches this host's loopback, so an own listener on 127.0.0.1 is
// refused through it too, even under an allow-list broad enough to admit
// the unspecified address (an operator's 0.0.0.0/0): the listener never
// sees a connection.
func TestOwnListenerThroughUnspecified(t *testing.T) {
	port, conns := countingReceiver(t)
	n, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"0.0.0.0/0", "::/0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Refuse("127.0.0.1:" + port); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://0.0.0.0:" + port + "/n", "http://[::]:" + port + "/n", "http://0.0.0.0:" + port + "/admin/reload"} {
		if err := n.CheckURL([]byte("C"), []byte(u)); !errors.Is(err, notify.ErrDestination) {
			t.Errorf("arrival check of %s: %v, want ErrDestination", u, err)
		}
		if err := n.Notify(context.Background(), "C", u, []byte(`{}`)); !errors.Is(err, notify.ErrDestination) {
			t.Errorf("delivery to %s: %v, want ErrDestination", u, err)
		}
	}
	if c := conns.Load(); c != 0 {
		t.Fatalf("the own listener saw %d connections", c)
	}
}
