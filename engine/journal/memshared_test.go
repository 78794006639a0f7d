package journal_test

import (
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/journal/journaltest"
)

// TestSharedMem runs the shared-journal conformance suite (the one the
// PostgreSQL store passes) on the in-memory SharedMem the engine's
// several-node tests use, so both keep one meaning. Nodes opened by one
// test share one SharedMem.
func TestSharedMem(t *testing.T) {
	var dbs sync.Map // *testing.T → *journal.SharedMem
	journaltest.RunShared(t, func(t *testing.T, node string, ttl time.Duration) engine.SharedJournal {
		v, _ := dbs.LoadOrStore(t, journal.NewSharedMem(nil))
		n := v.(*journal.SharedMem).Node(node, ttl)
		t.Cleanup(func() { n.Close() })
		return n
	})
}

func TestSharedMemOutbox(t *testing.T) {
	var dbs sync.Map // *testing.T → *journal.SharedMem
	journaltest.RunOutbox(t, func(t *testing.T, node string) journaltest.OutboxJournal {
		v, _ := dbs.LoadOrStore(t, journal.NewSharedMem(nil))
		n := v.(*journal.SharedMem).Node(node, journaltest.Long)
		t.Cleanup(func() { n.Close() })
		return n
	})
}
