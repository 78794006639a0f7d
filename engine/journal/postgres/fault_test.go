package postgres_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal/journaltest"
	"github.com/paycode/paycode/engine/journal/postgres"
)

// TestRegister: one live process per node name; the name is free again
// once its holder closes; a holder whose registration another process
// took fails its next Renew as a journal failure (fatal for the engine).
func TestRegister(t *testing.T) {
	ctx := context.Background()
	a := open(t, "7", time.Second)
	if err := a.Register(ctx); err != nil {
		t.Fatalf("Register: %v", err)
	}
	b := open(t, "7", time.Second)
	err := b.Register(ctx)
	if !errors.Is(err, postgres.ErrNodeTaken) || !strings.Contains(err.Error(), "node 7") {
		t.Fatalf("second Register while the first is live = %v, want ErrNodeTaken naming node 7", err)
	}
	if _, err := a.Renew(ctx); err != nil {
		t.Fatalf("Renew of the holder: %v", err)
	}
	// The holder's heartbeat lapses (it is this process, so alive: only
	// the lease decides), and b takes the name.
	deadline := time.Now().Add(10 * time.Second)
	for err = b.Register(ctx); err != nil && time.Now().Before(deadline); err = b.Register(ctx) {
		time.Sleep(20 * time.Millisecond) // polling: the heartbeat's age
	}
	if err != nil {
		t.Fatalf("Register after the holder's heartbeat lapsed: %v", err)
	}
	if _, err := a.Renew(ctx); !errors.Is(err, engine.ErrJournalFailed) {
		t.Fatalf("Renew of a holder whose name was taken = %v, want ErrJournalFailed", err)
	}
	b.Close()
	c := open(t, "7", time.Minute)
	if err := c.Register(ctx); err != nil {
		t.Fatalf("Register after the holder closed: %v", err)
	}
}

// TestUnavailable: a database that does not answer in time gives
// ErrJournalUnavailable within the call timeout (not ErrJournalFailed);
// a statement the server refuses gives ErrJournalFailed.
func TestUnavailable(t *testing.T) {
	dsn(t)
	// A listener that accepts and never answers: a hung database.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err = postgres.Open(context.Background(), "postgres://u:p@"+ln.Addr().String()+"/db?sslmode=disable",
		postgres.Options{Node: "a", CallTimeout: 200 * time.Millisecond, Logger: quiet})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Open against a hung server = %v after %s", err, time.Since(start))
	}

	s := open(t, "a", time.Minute)
	ctx := context.Background()
	p := journaltest.Payment("p1", "c1")
	p.Held = true
	if existing, err := s.ClaimPayment(ctx, p); err != nil || existing != nil {
		t.Fatalf("ClaimPayment = %v, %v", existing, err)
	}
	// Claiming the same record again is this claim, stored: an answer
	// lost with its connection is settled this way.
	if existing, err := s.ClaimPayment(ctx, p); err != nil || existing != nil {
		t.Fatalf("ClaimPayment of the stored record again = %+v, %v; want nil, nil", existing, err)
	}
	// A caller's deadline already past: unavailable, not failed.
	dctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	_, _, err = s.GetPayment(dctx, "", "", "p1")
	if err == nil || errors.Is(err, engine.ErrJournalFailed) {
		t.Fatalf("GetPayment past its deadline = %v, want a non-fatal error", err)
	}
	// A refused statement (the table is gone) is a failure.
	conn, err := pgx.Connect(ctx, dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP TABLE "+pgx.Identifier{schemaFor(t), "refunds"}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Renew(ctx); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if _, err := s.TakeOver(ctx, 10); !errors.Is(err, engine.ErrJournalFailed) || errors.Is(err, engine.ErrJournalUnavailable) {
		t.Fatalf("TakeOver without its refunds table = %v, want ErrJournalFailed", err)
	}
}

// TestRenewAnswerLost: a Renew that committed and lost its answer
// clears nothing: the next Renew returns the same cancel requests, and
// the one after (the first answer received) clears them.
func TestRenewAnswerLost(t *testing.T) {
	ctx := context.Background()
	a, b := open(t, "a", time.Minute), open(t, "b", time.Minute)
	p := journaltest.Payment("p1", "c1")
	if existing, err := a.ClaimPayment(ctx, p); err != nil || existing != nil {
		t.Fatalf("ClaimPayment = %v, %v", existing, err)
	}
	if err := b.RequestCancel(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	postgres.LoseNextRenew(a)
	if cancels, err := a.Renew(ctx); !errors.Is(err, engine.ErrJournalUnavailable) || !errors.Is(err, engine.ErrOutcomeUnknown) {
		t.Fatalf("Renew whose answer was lost = %v, %v; want ErrJournalUnavailable and ErrOutcomeUnknown", cancels, err)
	}
	if cancels, err := a.Renew(ctx); err != nil || len(cancels) != 1 || cancels[0] != "p1" {
		t.Fatalf("Renew after a lost answer = %v, %v; want [p1] again", cancels, err)
	}
	if cancels, err := a.Renew(ctx); err != nil || len(cancels) != 0 {
		t.Fatalf("the next Renew = %v, %v; want none", cancels, err)
	}
}

// TestOpenErrorsHideThePassword: a DSN's password reaches no error
// Open returns (a log line or /readyz reason quotes them): not with a
// wrong password, an unreachable server, or a DSN that does not parse.
func TestOpenErrorsHideThePassword(t *testing.T) {
	d := dsn(t)
	const secret = "s3cret-Pw-7f1c"
	u, err := url.Parse(d)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), secret)
	for name, dsn := range map[string]string{
		"wrong password":     u.String(),
		"unreachable server": "postgres://paycode:" + secret + "@127.0.0.1:1/db?sslmode=disable",
		"unparsable":         "postgres://paycode:" + secret + "@127.0.0.1:5432/db?sslmode=nonsense&connect_timeout=x",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := postgres.Open(ctx, dsn, postgres.Options{Node: "a", CallTimeout: 2 * time.Second, Logger: quiet})
		cancel()
		if err == nil {
			s.Close()
			t.Fatalf("%s: Open succeeded", name)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error quotes the password: %v", name, err)
		}
	}
}
