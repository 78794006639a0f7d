package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/sign"
	"github.com/paycode/paycode/engine/sign/signtest"
)

// BenchmarkLanePay is whole pays over loopback (lane → paycode → simulated
// wallet answering at once), signed (rsa256: paycode verifies the request
// and signs the answer) and unsigned (none). Requests are signed before
// the timer starts, so the figure is paycode's cost, not the client's;
// run with a fixed count, e.g. -benchtime 3000x. pays/s = 1e9 / ns/op.
// The signing ceiling is GOMAXPROCS ÷ sign.BenchmarkSign's ns/op.
func BenchmarkLanePay(b *testing.B) {
	for _, policy := range []string{"rsa256", "none"} {
		b.Run(policy, func(b *testing.B) {
			st, clock := startSigned(b, signedOpts{engine: func(c *engine.Config) { c.PayTimeout = 5 * time.Second }},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			defer st.Close()
			u, _ := url.Parse(st.URL())
			hc := &fasthttp.HostClient{Addr: u.Host, MaxConns: 512}
			clientID := merchantID
			if policy == "none" {
				clientID = trustedID
			}
			signer := signtest.Merchant.Signer("1")
			path := []byte("/ams/api/v1/payments/pay")
			rt := sign.AppendEpochMillis(nil, clock.Now())
			round := benchRound.Add(1)
			reqs := make([]*fasthttp.Request, b.N)
			// Sign on every core, timed: the signing ceiling measured in
			// this run, under whatever else the machine is doing.
			var idx atomic.Int64
			var wg sync.WaitGroup
			signStart := time.Now()
			for w := 0; w < runtime.GOMAXPROCS(0); w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(idx.Add(1) - 1)
						if i >= len(reqs) {
							return
						}
						body := []byte(payBody(fmt.Sprintf("b-%s-%d-%d", policy, round, i), fmt.Sprintf("281011%02d%014d%02d", round%100, i, i%80), 100))
						r := new(fasthttp.Request)
						r.SetRequestURI(st.URL() + string(path))
						r.Header.SetMethod("POST")
						r.Header.Set("client-id", clientID)
						h, _ := signer.AppendHeader(nil, []byte("POST"), path, []byte(clientID), rt, body)
						if policy == "rsa256" {
							r.Header.SetBytesV("request-time", rt)
							r.Header.SetBytesV("signature", h)
						}
						r.SetBody(body)
						reqs[i] = r
					}
				}()
			}
			wg.Wait()
			ceiling := float64(b.N) / time.Since(signStart).Seconds()
			var next atomic.Int64
			var bad atomic.Int64
			b.SetParallelism(32)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				resp := new(fasthttp.Response)
				for pb.Next() {
					r := reqs[next.Add(1)-1]
					if err := hc.Do(r, resp); err != nil || resp.StatusCode() != 200 || !bytes.Contains(resp.Body(), []byte(`"resultCode":"SUCCESS"`)) {
						bad.Add(1)
					}
					if policy == "rsa256" && len(resp.Header.Peek("signature")) == 0 {
						bad.Add(1)
					}
				}
			})
			el := time.Since(start)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			if n := bad.Load(); n > 0 {
				b.Fatalf("%d bad answers", n)
			}
			pays := float64(b.N) / el.Seconds()
			b.ReportMetric(pays, "pays/s")
			b.ReportMetric(ceiling, "signs/s")
			// CPU of the whole process (lanes, paycode, simulated wallets)
			// per pay: the rsa256 − none difference is what signing costs,
			// to compare with sign.BenchmarkVerifyAndSign.
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/pay")
			if policy == "rsa256" {
				// A signed pay costs one verify and one sign: its ceiling is
				// the signing ceiling.
				b.ReportMetric(100*pays/ceiling, "%ceiling")
			}
		})
	}
}

var benchRound atomic.Int64

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
