package postgres_test

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/engine/journal/postgres"
	"github.com/paycode/paycode/engine/journal/postgres/pgtest"
)

// TestPoolAfterOutage: the database goes away with connections idle in
// the pool (every one cut) and comes back. The engine learns it is back
// from a Ping that answers (its lease tick pings); from then on every
// call answers, the first ones included: pgxpool hands out an idle
// connection before it dials, and destroys one that failed, so a Ping
// answers only once no cut connection is left idle for a call to meet.
func TestPoolAfterOutage(t *testing.T) {
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	px := pgtest.NewCutProxy(t, u.Host)
	u.Host = px.Addr()
	ctx := context.Background()
	st, err := postgres.Open(ctx, u.String(), postgres.Options{Node: "po", Schema: pgtest.Schema(t), MaxConns: 8, Logger: quiet, CallTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	read := func() []error {
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { _, _, errs[i] = st.GetPayment(ctx, "C", "none", "") })
		}
		wg.Wait()
		return errs
	}
	for _, err := range read() { // eight connections in the pool
		if err != nil {
			t.Fatal(err)
		}
	}
	px.Cut()
	if err := st.Ping(ctx); err == nil {
		t.Fatal("Ping with the database gone answered")
	}
	px.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for st.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("Ping did not answer within 10 s of the database's return")
		}
		time.Sleep(20 * time.Millisecond) // as the lease tick pings
	}
	for i, err := range read() {
		if err != nil {
			t.Errorf("call %d after the database answered a Ping again: %v", i, err)
		}
	}
}
