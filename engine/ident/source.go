package ident

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Source answers the questions the Identifier's cache cannot: which wallet
// routes codes of this length with these leading digits. TableSource asks a
// local Table, ServiceClient a remote identification service.
type Source interface {
	// Identify looks up codes of the given length whose leading digits are
	// digits (MaxPrefixLen of them; fewer only for hand-built queries).
	// digits is only valid during the call.
	//
	// "No rule" is an answer, not an error: Answer.Wallet is empty. A
	// non-nil error means the source could not answer (unreachable, timed
	// out, unreadable reply); the Identifier reports it as
	// engine.ErrIdentifyUnavailable and does not cache it.
	Identify(ctx context.Context, digits []byte, length int) (Answer, error)
}

// Answer is a Source's reply.
type Answer struct {
	// Wallet is the routed wallet, or "" when no rule matches.
	Wallet string
	// TTL, when positive, asks the Identifier to cache the answer for at
	// most this long (a hub about to change a route can shorten caching).
	// It never lengthens the Identifier's configured TTL.
	TTL time.Duration
}

// Reloader is a Source that can re-read its rules. Identifier.Reload calls
// it before dropping its cache; a Source without it (a remote service owns
// its own rules) only has the cache dropped.
type Reloader interface {
	Reload(ctx context.Context) error
}

// TableSource answers from a Table held in memory, optionally read from a
// rules file. The table is swapped atomically: a lookup sees the old or
// the new table, never a mix.
type TableSource struct {
	path string
	mu   sync.Mutex // serialises Reload, so the last file read wins
	t    atomic.Pointer[Table]
}

// NewTableSource serves t. Its Reload does nothing (there is no file).
func NewTableSource(t *Table) *TableSource {
	s := &TableSource{}
	s.t.Store(t)
	return s
}

// OpenTableSource reads the rules file at path; Reload reads it again.
func OpenTableSource(path string) (*TableSource, error) {
	t, err := ReadRulesFile(path)
	if err != nil {
		return nil, err
	}
	s := &TableSource{path: path}
	s.t.Store(t)
	return s, nil
}

// Table returns the current table. Its method value is what
// NewServiceHandler takes, so a hub can serve the same file it reloads.
func (s *TableSource) Table() *Table { return s.t.Load() }

// Store replaces the table, for programmatic changes. Callers that cache
// answers (an Identifier over this source) must be reloaded afterwards.
func (s *TableSource) Store(t *Table) {
	if t == nil {
		panic("ident: TableSource.Store(nil)")
	}
	s.t.Store(t)
}

// Path is the rules file, "" for a source built from a Table.
func (s *TableSource) Path() string { return s.path }

// Reload re-reads the rules file and swaps the table. On any error (the
// file is missing, malformed or fails validation) the current table stays
// and the error is returned. Without a file it does nothing.
func (s *TableSource) Reload(ctx context.Context) error {
	if s.path == "" {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := ReadRulesFile(s.path)
	if err != nil {
		return err
	}
	s.t.Store(t)
	return nil
}

// errNoTable is a TableSource whose table was never set (a zero value).
var errNoTable = errors.New("ident: table source has no table")

// Identify looks digits and length up in the current table. It never
// fails once a table is set; the TTL is left to the Identifier.
func (s *TableSource) Identify(_ context.Context, digits []byte, length int) (Answer, error) {
	t := s.t.Load()
	if t == nil {
		return Answer{}, errNoTable
	}
	w, _ := t.LookupDigits(digits, length)
	return Answer{Wallet: w}, nil
}

// String names the source for logs and Config printing.
func (s *TableSource) String() string {
	if s.path == "" {
		return "table"
	}
	return fmt.Sprintf("file %s", s.path)
}

var (
	_ Source   = (*TableSource)(nil)
	_ Reloader = (*TableSource)(nil)
)
