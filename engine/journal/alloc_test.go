package journal_test

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

// The hot paths do not allocate (fasthttp's allocation_test habit).

func TestRecordAllocations(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("allocation counts are not meaningful under -race")
	}
	p := payment("20261126093000010000000000000001", codec.StatusSuccess, t0, 2)
	buf := make([]byte, 0, journal.PaymentSizeHint)
	if n := testing.AllocsPerRun(100, func() { buf = journal.AppendPayment(buf[:0], p) }); n != 0 {
		t.Errorf("AppendPayment allocates %.0f times, want 0", n)
	}
	var got engine.PaymentRecord
	if n := testing.AllocsPerRun(100, func() {
		if err := journal.DecodePayment(buf, &got); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Errorf("DecodePayment allocates %.0f times, want 1", n)
	}
}

// Append itself does not allocate (Pebble's batch and our buffers are
// pooled); the engine's lanes call it on every payment.
func TestPebbleAppendAllocations(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("allocation counts are not meaningful under -race")
	}
	for _, detach := range []bool{false, true} {
		j := openPebble(t, "", journal.Options{FS: vfs.NewMem(), DetachCommits: detach})
		appendAllocs(t, j)
	}
}

func appendAllocs(t *testing.T, j *journal.Pebble) {
	p := payment("20261126093000010000000000000001", codec.StatusSuccess, t0, 2)
	b := &engine.Batch{Payments: []*engine.PaymentRecord{p}, Refunds: []*engine.RefundRecord{refund("r1", p.PaymentID, codec.StatusSuccess, t0)}}
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		if err := j.Append(ctx, b, false); err != nil {
			t.Fatal(err)
		}
	}); n > 0.1 {
		t.Errorf("Append allocates %.2f times per call", n)
	}
}
