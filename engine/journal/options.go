package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Defaults for Options. The journal holds small values (a few hundred
// bytes per record) read in full once at start, so caches stay modest.
const (
	DefaultCacheSize    = 16 << 20 // block cache, bytes
	DefaultMemTableSize = 16 << 20 // bytes per memtable
	DefaultMaxOpenFiles = 1000
	// DefaultCompactChunk is how many age-index entries Compact examines
	// per exclusive-lock section (see Pebble.Compact).
	DefaultCompactChunk = 256
	// DefaultCloseTimeout bounds Close on a failed journal, whose commit
	// pipeline Pebble may have left locked.
	DefaultCloseTimeout = 5 * time.Second
	// DefaultKeyFilterMemory bounds the in-memory filter of index keys:
	// about 250 million keys (125 million pays) at its 1 % rate, a day and
	// a half at 1,000 pays/s since the last start.
	DefaultKeyFilterMemory = 512 << 20
)

// Options configures the Pebble journal. The zero value is usable: Open
// applies EnsureDefaults.
type Options struct {
	// FS is the filesystem; nil means the operating system's (vfs.Default).
	// Tests pass vfs.NewMem, vfs.NewCrashableMem or an errorfs wrapper.
	FS vfs.FS
	// CacheSize is Pebble's block cache size in bytes.
	CacheSize int64
	// MemTableSize is the size of one Pebble memtable in bytes.
	MemTableSize uint64
	// MaxOpenFiles bounds Pebble's open sstables.
	MaxOpenFiles int
	// WALMinSyncInterval, when positive, makes Pebble wait at least this
	// long between WAL fsyncs, so that more concurrent synced appends share
	// one fsync at the cost of that much latency. Zero (the default) syncs
	// as soon as the previous sync is done: group commit still happens,
	// since appends arriving during an fsync share the next one.
	WALMinSyncInterval time.Duration
	// BackgroundSync makes every unsynced Append durable soon without its
	// caller waiting: a goroutine then commits a synced empty record
	// (unless one is already on its way), and since the WAL is written in
	// order, that fsync covers the Append. The window in which a crash
	// can lose an unsynced Append is then one fsync (plus
	// WALMinSyncInterval) instead of "until the next synced Append",
	// which an idle node may not make for hours. At rate the record rides
	// on the fsyncs the synced Appends make anyway.
	BackgroundSync bool
	// CompactChunk is how many age-index entries Compact examines while it
	// holds the journal's exclusive lock.
	CompactChunk int
	// CloseTimeout bounds how long Close waits for Pebble after a failure.
	CloseTimeout time.Duration
	// KeyFilterMemory bounds, in bytes, the in-memory filter of request
	// and code keys that answers a new pay's lookups of absent keys
	// without Pebble. It grows with the keys added since Open, about 2 MB
	// per million (one pay adds two); past the bound its false-positive
	// rate, and with it the Pebble reads per claim, climbs until the next
	// Open. Memory is taken only as keys arrive.
	KeyFilterMemory int64
	// DetachCommits runs each commit on its own goroutine, so that an
	// Append returns the latched error as soon as the journal fails even
	// if Pebble has wedged its commit pipeline (after a WAL failure it can
	// panic holding its commit mutex, and the commits queued behind it
	// then block for good). Without it (the default) those Appends stay
	// blocked, which is harmless when OnFatal, or the engine on the first
	// ErrJournalFailed, ends the process; set it if the process keeps
	// running after a journal failure. It costs a goroutine hand-off per
	// Append: measured on 2 cores, about -20 % synced appends/s at 64
	// writers, +20 µs synced p50, and unsynced appends from ~1 µs to
	// ~2-4 µs with a p99 in milliseconds.
	DetachCommits bool
	// Logger receives Pebble's log lines and events (background errors,
	// slow disks, write stalls). Nil means slog.Default(). Pebble never
	// writes to stdout or stderr itself.
	Logger *slog.Logger
	// OnFatal, if set, is called once with the first write error (which
	// wraps engine.ErrJournalFailed), after which every Append fails. It
	// is called from the goroutine whose Append failed, with no journal
	// lock held, so it may call Close. The process should fail-stop.
	OnFatal func(error)

	// filterKeys, for tests, replaces the fewest index keys the key
	// filter is sized for at Open (defaultFilterKeys), so that a test can
	// run a journal past its filter's first size without a million pays.
	filterKeys uint
}

// EnsureDefaults sets every zero field to its default.
func (o *Options) EnsureDefaults() {
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.MaxOpenFiles == 0 {
		o.MaxOpenFiles = DefaultMaxOpenFiles
	}
	if o.CompactChunk == 0 {
		o.CompactChunk = DefaultCompactChunk
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.KeyFilterMemory == 0 {
		o.KeyFilterMemory = DefaultKeyFilterMemory
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports the first out-of-range field.
func (o *Options) Validate() error {
	switch {
	case o.CacheSize < 0:
		return errors.New("journal: CacheSize is negative")
	case o.MemTableSize != 0 && o.MemTableSize < 1<<20:
		return errors.New("journal: MemTableSize is below 1 MiB")
	case o.MemTableSize >= 4<<30:
		return errors.New("journal: MemTableSize is 4 GiB or more")
	case o.MaxOpenFiles < 0:
		return errors.New("journal: MaxOpenFiles is negative")
	case o.WALMinSyncInterval < 0:
		return errors.New("journal: WALMinSyncInterval is negative")
	case o.CompactChunk < 0:
		return errors.New("journal: CompactChunk is negative")
	case o.CloseTimeout < 0:
		return errors.New("journal: CloseTimeout is negative")
	case o.KeyFilterMemory < 0:
		return errors.New("journal: KeyFilterMemory is negative")
	}
	return nil
}

// String prints the tuning knobs (there are no secrets in Options).
func (o *Options) String() string {
	fs := "default"
	if o.FS != nil && o.FS != vfs.Default {
		fs = fmt.Sprintf("%T", o.FS)
	}
	return "journal.Options{FS: " + fs +
		", CacheSize: " + strconv.FormatInt(o.CacheSize, 10) +
		", MemTableSize: " + strconv.FormatUint(o.MemTableSize, 10) +
		", MaxOpenFiles: " + strconv.Itoa(o.MaxOpenFiles) +
		", WALMinSyncInterval: " + o.WALMinSyncInterval.String() +
		", CompactChunk: " + strconv.Itoa(o.CompactChunk) +
		", CloseTimeout: " + o.CloseTimeout.String() +
		", KeyFilterMemory: " + strconv.FormatInt(o.KeyFilterMemory, 10) +
		", DetachCommits: " + strconv.FormatBool(o.DetachCommits) + "}"
}

// pebbleOptions builds Pebble's options; the caller must Unref the cache
// once the DB is open (the DB keeps its own reference).
func (o *Options) pebbleOptions(fs *failState) *pebble.Options {
	lg := &slogLogger{l: o.Logger, fs: fs}
	po := &pebble.Options{
		FS:                 o.FS,
		Cache:              pebble.NewCache(o.CacheSize),
		MemTableSize:       o.MemTableSize,
		MaxOpenFiles:       o.MaxOpenFiles,
		Logger:             lg,
		FormatMajorVersion: pebble.FormatNewest,
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) {
				o.Logger.Error("journal: pebble background error", "err", err)
			},
			DiskSlow: func(info pebble.DiskSlowInfo) {
				o.Logger.Warn("journal: disk slow", "path", info.Path, "op", info.OpType.String(), "duration", info.Duration)
			},
			WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
				o.Logger.Warn("journal: pebble write stall", "reason", info.Reason)
			},
			WriteStallEnd: func() {
				o.Logger.Info("journal: pebble write stall ended")
			},
		},
	}
	if d := o.WALMinSyncInterval; d > 0 {
		po.WALMinSyncInterval = func() time.Duration { return d }
	}
	// Bloom filters on every level (later levels inherit L0's): the
	// engine's claims look up request and code keys that are almost always
	// absent, and a filter answers those without reading data blocks.
	po.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	// L0 files are not compressed (the levels below keep Snappy): they
	// live only until the next L0 compaction, and compressing every
	// flushed block to decompress it there soon after was 5 % of the
	// journal's CPU per pay (BenchmarkPayRecords/journal/memfs profile,
	// docs/performance.md). Reads of those blocks get cheaper, not dearer.
	po.Levels[0].Compression = func() *sstable.CompressionProfile { return sstable.NoCompression }
	for i := 1; i < len(po.Levels); i++ {
		po.Levels[i].Compression = func() *sstable.CompressionProfile { return sstable.SnappyCompression }
	}
	return po
}

// slogLogger routes Pebble's logger to slog. Fatalf latches the journal's
// failure and panics with fatalPanic instead of exiting: Pebble calls it
// in the committing goroutine when a WAL write or sync fails, and Append
// recovers it as an error. Called from a Pebble background goroutine, the
// panic ends the process, as Pebble's own logger would (fail-stop).
type slogLogger struct {
	l  *slog.Logger
	fs *failState
}

func (s *slogLogger) Infof(format string, args ...any) {
	if s.l.Enabled(context.Background(), slog.LevelInfo) {
		s.l.Info("pebble: " + fmt.Sprintf(format, args...))
	}
}

func (s *slogLogger) Errorf(format string, args ...any) {
	s.l.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (s *slogLogger) Fatalf(format string, args ...any) {
	err := fmt.Errorf("pebble: "+format, args...)
	s.l.Error("journal: pebble fatal error", "err", err)
	s.fs.fail(err)
	panic(fatalPanic{err: err})
}
