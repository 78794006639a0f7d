package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
	"github.com/paycode/paycode/engine/journal"
)

// BenchmarkInquireInProcessPebble: lanes polling payments that wait for
// the user's password (the inquiries a lane sends most), with the Pebble
// journal, whose engine keeps those payments in memory.
func BenchmarkInquireInProcessPebble(b *testing.B) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	j, err := journal.Open(b.TempDir(), journal.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	e, err := engine.New(engine.Config{
		Wallets:    map[string]engine.Wallet{"w1": newFakeWallet()},
		Identifier: enginetest.StaticIdentifier{"281001": "w1"},
		Clock:      enginetest.NewManualClock(t0), Journal: j, CodeKey: j.CodeKey(), Logger: quiet,
	})
	if err != nil {
		b.Fatal(err)
	}
	const n = 100
	reqs := make([]codec.IDRequest, n)
	for i := range reqs {
		var v codec.PaymentView
		id := fmt.Sprintf("pw-%d", i)
		e.Pay(ctx, client, payReq(id, code(i, 80), 500), &v)
		if v.ResultCode != codec.PaymentInProcess {
			b.Fatalf("pay %d: %v", i, v.ResultCode)
		}
		reqs[i] = codec.IDRequest{PaymentRequestID: []byte(id)}
	}
	var v codec.PaymentView
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if rc := e.Inquire(ctx, client, &reqs[i%n], &v); rc != codec.Success || v.Status != codec.StatusProcessing {
			b.Fatalf("inquiry: %v %v", rc, v.Status)
		}
	}
}
