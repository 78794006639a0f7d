package journal_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

func Example() {
	opts := journal.Options{
		FS:      vfs.NewMem(), // omit for the real disk
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnFatal: func(err error) { /* log and exit non-zero: fail-stop */ },
	}
	j, err := journal.Open("/data/journal", opts)
	if err != nil {
		panic(err)
	}
	defer j.Close()
	ctx := context.Background()

	// The intent, synced before the wallet is called.
	p := &engine.PaymentRecord{PaymentID: "p1", RequestID: "r1", Status: codec.StatusProcessing, Version: 1}
	if err := j.Append(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{p}}, true); err != nil {
		panic(err) // wraps engine.ErrJournalFailed: stop admitting payments
	}
	// The outcome, as the record's next version.
	p.Status, p.Result, p.Version = codec.StatusSuccess, codec.Success, 2
	if err := j.Append(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{p}}, true); err != nil {
		panic(err)
	}

	_ = j.Load(ctx, func(r *engine.Record) error {
		fmt.Println(r.Payment.PaymentID, r.Payment.Status, r.Payment.Result, r.Payment.Version)
		return nil
	})
	fmt.Println(len(j.CodeKey()), "byte code key")
	// Output:
	// p1 SUCCESS SUCCESS 2
	// 32 byte code key
}
