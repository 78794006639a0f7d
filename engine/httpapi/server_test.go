package httpapi_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/loadtest/stack"
)

// TestIdleConnectionGetsNoAnswer: a connection that never sends a byte
// and times out is closed without a response, so HTTP clients never see
// an unsolicited answer on a spare idle connection.
func TestIdleConnectionGetsNoAnswer(t *testing.T) {
	st, err := stack.Start(stack.Config{Node: server.Config{NoDecoder: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := st.API.NewFastHTTPServer()
	srv.ReadTimeout = 100 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if len(b) != 0 {
		t.Fatalf("an idle connection got %q", b)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server did not close the idle connection")
	}
}
