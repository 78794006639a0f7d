package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paycode/paycode/engine"
)

// Node registration. Leases are held by node name and fenced by it, so
// two live processes under one name would pass each other's fences and
// take each other's payments. A process therefore registers its name
// (Register) before it works, and keeps the registration alive with a
// heartbeat on every Renew; a name whose heartbeat is fresher than the
// lease length belongs to a live process and is refused to another.

// ErrNodeTaken: another live process holds this node name. Register's
// error wraps it and names the holder.
var ErrNodeTaken = errors.New("node name held by another live paycode")

// errRegistrationLost: this process's registration was taken by another
// (its heartbeat lapsed past the lease). Renew's error wraps it with
// engine.ErrJournalFailed.
var errRegistrationLost = errors.New("node registration taken by another process")

// registration is what Register stored.
type registration struct {
	token [16]byte
	pid   int
	host  string
}

// Holder describes a node name's registered process.
type Holder struct {
	PID       int
	Host      string
	Started   time.Time
	Heartbeat time.Duration // how long ago its heartbeat was
}

const (
	registerSQL = `INSERT INTO paycode_nodes AS n (node, token, pid, host, started, heartbeat)
	VALUES ($1, $2, $3, $4, now(), now())
ON CONFLICT (node) DO UPDATE SET token = excluded.token, pid = excluded.pid, host = excluded.host,
	started = excluded.started, heartbeat = excluded.heartbeat
WHERE n.heartbeat < now() - $5::bigint * interval '1 microsecond' OR n.token = $6
RETURNING true`
	holderSQL     = `SELECT token, pid, host, started, now() - heartbeat FROM paycode_nodes WHERE node = $1`
	heartbeatSQL  = `UPDATE paycode_nodes SET heartbeat = now() WHERE node = $1 AND token = $2`
	deregisterSQL = `DELETE FROM paycode_nodes WHERE node = $1 AND token = $2`
)

// Register claims this store's node name for this process (pid, host),
// unless another live process holds it: one whose heartbeat is fresher
// than the lease length. A holder on this host whose pid is gone (a
// crashed predecessor) is replaced at once. The error then wraps
// ErrNodeTaken and names the holder. Renew beats the heartbeat; Close
// gives the name up.
func (s *Store) Register(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	host, _ := os.Hostname()
	reg := &registration{pid: os.Getpid(), host: host}
	rand.Read(reg.token[:])
	for attempt := 0; attempt < 3; attempt++ {
		var stale []byte // a dead local predecessor's token, replaced
		var ok bool
		err := s.pool.QueryRow(ctx, registerSQL, s.opts.Node, reg.token[:], reg.pid, reg.host, s.ttl, stale).Scan(&ok)
		if err == nil {
			s.reg.Store(reg)
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: registering node %s: %w", s.opts.Node, err)
		}
		h, token, err := s.holder(ctx)
		if err != nil {
			return err
		}
		if h == nil {
			continue // gone meanwhile
		}
		if h.Host == host && !pidAlive(h.PID) {
			// This host's earlier process under this name died without
			// deregistering: take the name over now rather than after
			// the lease.
			if err := s.pool.QueryRow(ctx, registerSQL, s.opts.Node, reg.token[:], reg.pid, reg.host, s.ttl, token).Scan(&ok); err == nil {
				s.reg.Store(reg)
				s.opts.Logger.Warn("node name taken over from a dead process on this host", "node", s.opts.Node, "dead_pid", h.PID)
				return nil
			}
			continue
		}
		return fmt.Errorf("node %s: %w: pid %d on host %q, started %s, last heartbeat %s ago; stop it, or give this process another node number",
			s.opts.Node, ErrNodeTaken, h.PID, h.Host, h.Started.UTC().Format(time.RFC3339), h.Heartbeat.Round(time.Millisecond))
	}
	return fmt.Errorf("postgres: registering node %s: the registration kept changing under this process", s.opts.Node)
}

// holder reads the node name's registration (nil when there is none).
func (s *Store) holder(ctx context.Context) (*Holder, []byte, error) {
	var h Holder
	var token []byte
	err := s.pool.QueryRow(ctx, holderSQL, s.opts.Node).Scan(&token, &h.PID, &h.Host, &h.Started, &h.Heartbeat)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: reading node %s's registration: %w", s.opts.Node, err)
	}
	return &h, token, nil
}

// heartbeat keeps the registration alive (nothing without one). A
// registration that is no longer this process's is fatal (see Renew).
func (s *Store) heartbeat(ctx context.Context) error {
	reg := s.reg.Load()
	if reg == nil {
		return nil
	}
	ct, err := s.pool.Exec(ctx, heartbeatSQL, s.opts.Node, reg.token[:])
	if err != nil {
		return fail("heartbeat", err, false) // a lost heartbeat is only late
	}
	if ct.RowsAffected() == 0 {
		msg := "its registration row is gone"
		if h, _, err := s.holder(ctx); err == nil && h != nil {
			msg = fmt.Sprintf("pid %d on host %q registered it (started %s)", h.PID, h.Host, h.Started.UTC().Format(time.RFC3339))
		}
		return fmt.Errorf("postgres: node %s: %w: %w: %s; this process stops: two processes under one node name would take each other's payments",
			s.opts.Node, engine.ErrJournalFailed, errRegistrationLost, msg)
	}
	return nil
}

// deregister gives the node name up (Close), bounded by the call timeout.
func (s *Store) deregister() {
	reg := s.reg.Swap(nil)
	if reg == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.CallTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, deregisterSQL, s.opts.Node, reg.token[:]); err != nil {
		s.opts.Logger.Warn("giving the node name up failed; a restart waits for its heartbeat to lapse", "node", s.opts.Node, "err", err)
	}
}
