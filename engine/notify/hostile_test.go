package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

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
// never sees a connection.
func TestDestinationsInOtherSpellings(t *testing.T) {
	port, conns := countingReceiver(t)

	strict, err := notify.New(notify.Config{AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	// Loopback allowed, but the listener is paycode's own.
	own, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"127.0.0.0/8", "::1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := own.Refuse("127.0.0.1:" + port); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]",
		"2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.0.0.1"} {
		url := "http://" + host + ":" + port + "/n"
		for name, n := range map[string]*notify.Notifier{"strict": strict, "own": own} {
			err := n.Notify(context.Background(), "C", url, []byte(`{}`))
			t.Logf("%s %s: %v", name, url, err)
			if err == nil {
				t.Errorf("%s: %s delivered", name, url)
				continue
			}
			if errors.Is(err, notify.ErrNotAcknowledged) {
				t.Errorf("%s: %s reached the listener: %v", name, url, err)
			}
		}
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the refused listener saw %d connections", n)
	}
}
