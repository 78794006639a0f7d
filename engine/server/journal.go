package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/journal/postgres"
)

// JournalConfig selects a node's journal: DSN empty means the embedded
// Pebble journal under Dir; a postgres:// (or postgresql://) DSN means
// the shared PostgreSQL journal, for several nodes.
type JournalConfig struct {
	DSN      string
	Dir      string
	Node     int           // this node's number (PostgreSQL leases)
	LeaseTTL time.Duration // PostgreSQL: lease without renewal
	// SyncWindow is Pebble's least time between WAL fsyncs
	// (WALMinSyncInterval; what is synced does not change); zero or
	// negative: sync as soon as the last fsync is done.
	SyncWindow time.Duration
	// CallTimeout bounds each PostgreSQL journal call (zero: the
	// journal's default); JournalCallTimeout derives it from the pay
	// timeout.
	CallTimeout time.Duration
	Logger      *slog.Logger
}

// JournalCallTimeout is the PostgreSQL journal's call timeout for an
// engine whose pay timeout is payTimeout: a quarter of it (1.25 s for
// the default 5 s), at least 100 ms. A pay makes a claim before its
// wallet call and a write after it, so a database that hangs costs a
// pay at most this much on top of its wallet's time, and a pay refused
// because the claim timed out is answered well within the pay timeout.
func JournalCallTimeout(payTimeout time.Duration) time.Duration {
	return max(payTimeout/4, 100*time.Millisecond)
}

// DefaultSyncWindow is serve's least time between two WAL fsyncs of the
// Pebble journal. Each pay waits for two synced appends; at a few
// thousand pays/s on a small machine back-to-back fsyncs cover one or two
// appends each and their CPU is a large share of a pay's. A millisecond's
// window makes an append that arrives within 1 ms of the last fsync wait
// for the next one with the others that arrived meanwhile: up to 1 ms more
// per synced append, fewer fsyncs, and the same data synced before every
// answer (docs/performance.md, "Group commit").
const DefaultSyncWindow = time.Millisecond

// Shared reports whether the config selects the PostgreSQL journal.
func (c JournalConfig) Shared() bool {
	return strings.HasPrefix(c.DSN, "postgres://") || strings.HasPrefix(c.DSN, "postgresql://")
}

// String describes the journal for logs and reports, without secrets:
// "pebble:DIR" or the DSN with its password hidden.
func (c JournalConfig) String() string {
	if c.DSN != "" {
		return RedactDSN(c.DSN)
	}
	return "pebble:" + c.Dir
}

// OpenJournal opens the journal c selects and returns it with the key of
// the code hashes (kept by the journal, so single use holds across
// restarts and, on PostgreSQL, across nodes). The PostgreSQL tables live
// in the DSN's search_path (add &search_path=NAME for a schema of one's
// own).
func OpenJournal(ctx context.Context, c JournalConfig) (engine.SharedJournal, []byte, error) {
	switch {
	case c.DSN == "":
		// A new data directory is the owner's only: the journal holds
		// the code-hash key, masked codes and merchants' payments.
		// (Pebble would make it 0755; MkdirAll leaves an existing one as
		// it is.)
		if err := os.MkdirAll(c.Dir, 0o700); err != nil {
			return nil, nil, dataDirError(c.Dir, err)
		}
		if err := checkFreeSpace(c.Dir); err != nil {
			return nil, nil, err
		}
		// BackgroundSync: an outcome written without waiting for its
		// fsync (engine.Config.AsyncOutcomes) is durable within one fsync
		// all the same, on an idle node too.
		j, err := journal.Open(c.Dir, journal.Options{Logger: c.Logger, WALMinSyncInterval: max(0, c.SyncWindow), BackgroundSync: true})
		if err != nil {
			return nil, nil, openError(c.Dir, err)
		}
		return j, j.CodeKey(), nil
	case c.Shared():
		st, err := postgres.Open(ctx, c.DSN, postgres.Options{Node: strconv.Itoa(c.Node), LeaseTTL: c.LeaseTTL, CallTimeout: c.CallTimeout, Logger: c.Logger})
		if err != nil {
			return nil, nil, err
		}
		// One live process per node number: leases are fenced by it.
		if err := st.Register(ctx); err != nil {
			st.Close()
			return nil, nil, err
		}
		return st, st.CodeKey(), nil
	}
	return nil, nil, fmt.Errorf("journal %q: want empty (Pebble under the data directory) or a postgres:// URL", RedactDSN(c.DSN))
}

// errLocked is the journal directory's lock held by another process.
var errLocked = errors.New("held by another paycode")

// dataDirError names what is wrong when the data directory cannot be
// made: a symbolic link to nowhere (MkdirAll says only "file exists"),
// or a file in the way.
func dataDirError(dir string, err error) error {
	if fi, lerr := os.Lstat(dir); lerr == nil {
		if fi.Mode()&os.ModeSymlink != 0 {
			if to, rerr := os.Readlink(dir); rerr == nil {
				if _, serr := os.Stat(dir); serr != nil {
					return fmt.Errorf("data directory %s is a symbolic link to %s, which does not exist: create it or fix the link", dir, to)
				}
			}
		} else if !fi.IsDir() {
			return fmt.Errorf("data directory %s is not a directory: use another data directory", dir)
		}
	}
	if perr := permissionError(dir, err); perr != nil {
		return perr
	}
	return fmt.Errorf("journal: %w", err)
}

// openError names what keeps Pebble from opening the data directory:
// another process holding its lock (only the lock call's own refusal
// means that: EAGAIN or EWOULDBLOCK, or EACCES, which POSIX allows
// fcntl to return for a held lock too), the directory or its files not
// readable and writable by this user, a read-only filesystem, or a store
// a newer Pebble (so a newer paycode) wrote. A file
// that cannot be opened comes as an *fs.PathError, the lock's refusal as
// a bare errno: an EACCES of the open is a permissions problem, not a
// holder.
func openError(dir string, err error) error {
	if strings.Contains(err.Error(), "lock held by current process") {
		return fmt.Errorf("data directory %s is %w: this process has it open already", dir, errLocked)
	}
	if perr := permissionError(dir, err); perr != nil {
		return perr
	}
	if strings.Contains(err.Error(), "written in unknown format major version") {
		return fmt.Errorf("data directory %s was written by a newer paycode (its Pebble format is newer than this one reads): run that version or a later one (%v)", dir, err)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) || !isLockBusy(err) {
		return err
	}
	if pid := lockHolder(dir); pid > 0 {
		return fmt.Errorf("data directory %s is %w (pid %d): stop it or use another data directory", dir, errLocked, pid)
	}
	return fmt.Errorf("data directory %s is %w: stop it or use another data directory (%v)", dir, errLocked, err)
}

// permissionError names a file of the data directory that this user may
// not open, the read-only filesystem it is on, or a file where its path
// wants a directory; nil for other errors.
func permissionError(dir string, err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return nil
	}
	switch {
	case errors.Is(pe.Err, fs.ErrPermission):
		return fmt.Errorf("data directory %s: permission denied on %s: it must be readable and writable by the user paycode runs as (uid %d): fix its owner or mode, or use another data directory", dir, pe.Path, os.Getuid())
	case errors.Is(pe.Err, syscall.EROFS):
		return fmt.Errorf("data directory %s is on a read-only filesystem (%s %s): use a writable one", dir, pe.Op, pe.Path)
	case errors.Is(pe.Err, syscall.ENOTDIR):
		return fmt.Errorf("data directory %s: %s is not a directory: use another data directory", dir, pe.Path)
	}
	return nil
}

// RedactDSN hides a DSN's secrets, for messages and `config print`: the
// password of a URL's user-info ("postgres://paycode:***@db/paycode"),
// and password and sslpassword settings, whether query parameters of a
// URL or keyword/value pairs ("host=db password=*** dbname=paycode"),
// which pgx accepts as well. It never parses more strictly than pgx: a
// DSN that does not parse is redacted all the same.
func RedactDSN(dsn string) string {
	dsn = secretSetting.ReplaceAllString(dsn, "${1}***")
	at := strings.LastIndexByte(dsn, '@')
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":***" + dsn[at:]
	}
	return dsn
}

// secretSetting matches a password or sslpassword setting with its value
// (quoted keyword/value, or up to the next & or space).
var secretSetting = regexp.MustCompile(`(?i)((?:^|[?&\s])(?:ssl)?password\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|[^&\s]*)`)
