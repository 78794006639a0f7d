// Command bareserver is the reference point for paycode's CPU per pay: a
// bare fasthttp server that answers every request with the same 300-byte
// JSON. Run it and paycode under the same `paycode load` generator and
// compare the servers' CPU per request (`paycode load -target-pid`):
//
//	go run ./bench/cmd/bareserver -listen 127.0.0.1:28480 &
//	paycode load -scenario testdata/scenarios/capacity.yaml -rate 2000 \
//	    -target http://127.0.0.1:28480 -target-pid $! -no-check
//
// The load run's success ratio and budgets break (the answer is not an
// Antom pay answer); its rates and the target's CPU are what count.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/valyala/fasthttp"
)

// body is a fixed JSON answer of exactly 300 bytes, about a pay answer's size.
var body = func() []byte {
	const head = `{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentId":"20261126000000000000000000000001","paymentTime":"2026-11-26T17:00:00Z","pad":"`
	const tail = `"}`
	return []byte(head + strings.Repeat("x", 300-len(head)-len(tail)) + tail)
}()

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback)")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bareserver:", err)
		os.Exit(1)
	}
	fmt.Printf("bareserver: pid %d, http://%s, %d-byte answer\n", os.Getpid(), ln.Addr(), len(body))
	srv := &fasthttp.Server{
		Name: "bare",
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("application/json")
			ctx.SetBody(body)
		},
	}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "bareserver:", err)
		os.Exit(1)
	}
}
