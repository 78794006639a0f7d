package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/journal/journaltest"
	"github.com/paycode/paycode/engine/journal/postgres"
	"github.com/paycode/paycode/engine/journal/postgres/pgtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// dsn and schemaFor are pgtest's: the test database, and each test's
// own schema.
var (
	dsn       = pgtest.DSN
	schemaFor = pgtest.Schema
)

// open opens node's store on t's schema, closed when t ends. Its call
// timeout is long: these tests check what is stored, and a busy machine
// running them under -race must not turn a slow claim into an outage.
func open(t testing.TB, node string, ttl time.Duration) *postgres.Store {
	t.Helper()
	return pgtest.Open(t, postgres.Options{Node: node, LeaseTTL: ttl, MaxConns: 8, Logger: quiet, CallTimeout: time.Minute})
}

func TestShared(t *testing.T) {
	dsn(t)
	journaltest.RunShared(t, func(t *testing.T, node string, ttl time.Duration) engine.SharedJournal {
		return open(t, node, ttl)
	})
}

func TestCodeKeyShared(t *testing.T) {
	a, b := open(t, "a", time.Minute), open(t, "b", time.Minute)
	if len(a.CodeKey()) != journal.CodeKeySize || !bytes.Equal(a.CodeKey(), b.CodeKey()) {
		t.Fatalf("code keys differ or have the wrong size: %d and %d bytes", len(a.CodeKey()), len(b.CodeKey()))
	}
	if bytes.Equal(a.CodeKey(), make([]byte, journal.CodeKeySize)) {
		t.Fatal("code key is all zeros")
	}
	// A later open keeps it; another schema (another journal) has its own.
	if c := open(t, "c", time.Minute); !bytes.Equal(c.CodeKey(), a.CodeKey()) {
		t.Fatal("code key changed on a later Open")
	}
	t.Run("other", func(t *testing.T) {
		if o := open(t, "a", time.Minute); bytes.Equal(o.CodeKey(), a.CodeKey()) {
			t.Fatal("two journals share a code key")
		}
	})
}

// TestConcurrentOpen: nodes starting at once on an empty database all
// succeed (schema creation under the advisory lock) with one code key.
func TestConcurrentOpen(t *testing.T) {
	d, schema := dsn(t), schemaFor(t)
	const n = 6
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), d, postgres.Options{Node: "n" + string(rune('0'+i)), Schema: schema, MaxConns: 2, Logger: quiet})
			if err != nil {
				errs[i] = err
				return
			}
			keys[i] = s.CodeKey()
			_ = s.Close()
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("node %d has another code key", i)
		}
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []postgres.Options{
		{},
		{Node: "a", LeaseTTL: -time.Second},
		{Node: "a", LeaseTTL: time.Microsecond},
		{Node: "a", MaxConns: -1},
		{Node: string(make([]byte, 200))},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%v: Validate = nil, want an error", o.String())
		}
	}
	o := postgres.Options{Node: "a"}
	o.EnsureDefaults()
	if err := o.Validate(); err != nil || o.LeaseTTL != postgres.DefaultLeaseTTL || o.MaxConns != postgres.DefaultMaxConns {
		t.Fatalf("defaults: %v, %v", o.String(), err)
	}
	// A DSN that does not parse is refused without echoing it.
	_, err := postgres.Open(context.Background(), "postgres://u:secret@[bad", postgres.Options{Node: "a"})
	if err == nil || bytes.Contains([]byte(err.Error()), []byte("secret")) {
		t.Fatalf("Open(bad DSN) = %v", err)
	}
}

// TestErrors: a closed store, a done context, a record clashing with
// another's unique key, and an unreachable server.
func TestErrors(t *testing.T) {
	s := open(t, "a", time.Minute)
	ctx := context.Background()
	p := journaltest.Payment("p1", "c1")
	if got, err := s.ClaimPayment(ctx, p); err != nil || got != nil {
		t.Fatal(got, err)
	}
	// Append of a never-claimed payment using p1's code: refused whole,
	// not fatal.
	clash := journaltest.Payment("p2", "c1")
	err := s.Append(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{clash}}, true)
	if !errors.Is(err, journal.ErrInvalid) || errors.Is(err, engine.ErrJournalFailed) {
		t.Fatalf("Append(clashing code) = %v, want ErrInvalid", err)
	}
	// A refund clashing with another's request id.
	r1, r2 := journaltest.Refund("r1", "p1"), journaltest.Refund("r2", "p1")
	r2.RequestID = r1.RequestID
	if err := s.Append(ctx, &engine.Batch{Refunds: []*engine.RefundRecord{r1}}, true); err != nil {
		t.Fatal(err)
	}
	err = s.Append(ctx, &engine.Batch{Refunds: []*engine.RefundRecord{r2}}, true)
	if !errors.Is(err, journal.ErrInvalid) {
		t.Fatalf("Append(clashing refund) = %v, want ErrInvalid", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Append(done, &engine.Batch{}, true); !errors.Is(err, context.Canceled) || errors.Is(err, engine.ErrJournalFailed) {
		t.Fatalf("Append(done ctx) = %v", err)
	}
	if err := s.Append(ctx, nil, true); !errors.Is(err, journal.ErrInvalid) {
		t.Fatalf("Append(nil) = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, &engine.Batch{}, true); !errors.Is(err, journal.ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
	if _, err := s.ClaimPayment(ctx, p); !errors.Is(err, journal.ErrClosed) {
		t.Fatalf("ClaimPayment after Close = %v", err)
	}
	// Nothing listens on port 1: connection acquisition is bounded by ctx.
	short, cancel2 := context.WithTimeout(ctx, 2*time.Second)
	defer cancel2()
	if _, err := postgres.Open(short, "postgres://u:p@127.0.0.1:1/db?connect_timeout=1", postgres.Options{Node: "a"}); err == nil {
		t.Fatal("Open on a closed port succeeded")
	}
}

func TestOutbox(t *testing.T) {
	dsn(t)
	journaltest.RunOutbox(t, func(t *testing.T, node string) journaltest.OutboxJournal {
		return open(t, node, time.Minute)
	})
}
