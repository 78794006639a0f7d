package decode_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/decode"
)

// TestMetricsHooks: InUse and Capacity follow the pool, Rejected counts
// ErrBusy answers, and OnDecoded sees every admitted image.
func TestMetricsHooks(t *testing.T) {
	d := newDecoder(t, decode.Config{Workers: 1, QueueSize: decode.NoQueue})
	b := newBlocker()
	decode.SetAttemptHook(d, b.hook)
	var mu sync.Mutex
	var seen []time.Duration
	d.OnDecoded(func(elapsed time.Duration, err error) {
		mu.Lock()
		seen = append(seen, elapsed)
		mu.Unlock()
	})
	img := qrFixture(t)
	ctx := context.Background()
	if d.Capacity() != 1 || d.InUse() != 0 || d.Rejected() != 0 {
		t.Fatalf("idle: capacity %d in use %d rejected %d", d.Capacity(), d.InUse(), d.Rejected())
	}
	first := make(chan error, 1)
	go func() {
		_, err := d.DecodeImage(ctx, img)
		first <- err
	}()
	<-b.entered
	if d.InUse() != 1 {
		t.Fatalf("in use %d while decoding", d.InUse())
	}
	for range 3 {
		if _, err := d.DecodeImage(ctx, img); !errors.Is(err, decode.ErrBusy) {
			t.Fatalf("err %v, want ErrBusy", err)
		}
	}
	close(b.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if d.Rejected() != 3 {
		t.Fatalf("rejected %d, want 3", d.Rejected())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] <= 0 {
		t.Fatalf("OnDecoded saw %v, want one positive duration", seen)
	}
}
