package journal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

func batchOf(ids ...string) *engine.Batch {
	b := &engine.Batch{}
	for _, id := range ids {
		b.Payments = append(b.Payments, payment(id, codec.StatusProcessing, t0, 1))
	}
	return b
}

func TestPebblePersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	key := j.CodeKey()
	if bytes.Equal(key, make([]byte, journal.CodeKeySize)) {
		t.Fatal("CodeKey is all zeros")
	}
	p := payment("p1", codec.StatusSuccess, t0, 2)
	r := refund("r1", "p1", codec.StatusProcessing, t0)
	n := notification("p1", 2)
	appendOK(t, j, &engine.Batch{Payments: []*engine.PaymentRecord{p}, Refunds: []*engine.RefundRecord{r}, Notifications: []*engine.NotificationRecord{n}})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = openPebble(t, dir, journal.Options{})
	if !bytes.Equal(j.CodeKey(), key) {
		t.Fatal("CodeKey changed across reopen")
	}
	l := load(t, j)
	mustEqual(t, "payment", l.Payments["p1"], p)
	mustEqual(t, "refund", l.Refunds["r1"], r)
	mustEqual(t, "notification", l.Notes["p1"], n)

	// Another store has another key.
	if other := openPebble(t, t.TempDir(), journal.Options{}); bytes.Equal(other.CodeKey(), key) {
		t.Fatal("two stores share a CodeKey")
	}
	// CodeKey hands out copies.
	k := j.CodeKey()
	k[0] ^= 0xff
	if !bytes.Equal(j.CodeKey(), key) {
		t.Fatal("CodeKey returned its own storage")
	}
}

func TestPebbleCompactChunks(t *testing.T) {
	j := openPebble(t, "", journal.Options{FS: vfs.NewMem(), CompactChunk: 2})
	testCompact(t, j)
	// Many candidates across many chunks, with kept ones interleaved.
	b := &engine.Batch{}
	for i := range 25 {
		st := codec.StatusSuccess
		if i%5 == 0 {
			st = codec.StatusProcessing
		}
		b.Payments = append(b.Payments, payment(fmt.Sprintf("bulk-%02d", i), st, t0.Add(time.Duration(i)*time.Second), 2))
	}
	appendOK(t, j, b)
	if n, err := j.Compact(context.Background(), t0.Add(time.Hour)); err != nil || n != 20 {
		t.Fatalf("Compact = %d, %v; want 20", n, err)
	}
}

func TestOptions(t *testing.T) {
	var o journal.Options
	if err := o.Validate(); err != nil {
		t.Fatalf("zero Options: %v", err)
	}
	o.EnsureDefaults()
	if o.CacheSize != journal.DefaultCacheSize || o.FS == nil || o.Logger == nil {
		t.Fatalf("EnsureDefaults: %s", o.String())
	}
	if !strings.Contains(o.String(), "CacheSize: 16777216") {
		t.Fatalf("String: %s", o.String())
	}
	for _, bad := range []journal.Options{{CacheSize: -1}, {MemTableSize: 1}, {WALMinSyncInterval: -1}, {CompactChunk: -1}} {
		if bad.Validate() == nil {
			t.Errorf("%s: Validate accepts it", bad.String())
		}
		if _, err := journal.Open("/x", bad); err == nil {
			t.Errorf("%s: Open accepts it", bad.String())
		}
	}
}

// walFaults injects err into WAL operations of the given kinds while armed,
// and counts WAL operations.
type walFaults struct {
	armed atomic.Bool
	kinds []errorfs.OpKind
	err   error // nil: errorfs.ErrInjected
	ops   atomic.Int64
}

func (w *walFaults) String() string { return "walFaults" }

func (w *walFaults) MaybeError(op errorfs.Op) error {
	if !strings.HasSuffix(op.Path, ".log") {
		return nil
	}
	w.ops.Add(1)
	if !w.armed.Load() {
		return nil
	}
	for _, k := range w.kinds {
		if op.Kind == k {
			if w.err != nil {
				return w.err
			}
			return errorfs.ErrInjected
		}
	}
	return nil
}

var faultKinds = []struct {
	name  string
	kinds []errorfs.OpKind
}{
	{"write", []errorfs.OpKind{errorfs.OpFileWrite, errorfs.OpFileWriteAt}},
	{"sync", []errorfs.OpKind{errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo}},
}

// fatalRecorder counts OnFatal calls.
type fatalRecorder struct {
	mu    sync.Mutex
	calls int
	err   error
}

func (f *fatalRecorder) onFatal(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.err = err
}

func (f *fatalRecorder) get() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.err
}

func TestPebbleWALFaultIsFatal(t *testing.T) {
	for _, fk := range faultKinds {
		t.Run(fk.name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			faults := &walFaults{kinds: fk.kinds}
			var fatal fatalRecorder
			j, err := journal.Open("/j", journal.Options{FS: errorfs.Wrap(mem, faults), Logger: quiet, OnFatal: fatal.onFatal, CloseTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			appendOK(t, j, batchOf("before"))

			faults.armed.Store(true)
			err = j.Append(ctx, batchOf("failing"), true)
			if !errors.Is(err, engine.ErrJournalFailed) || !errors.Is(err, errorfs.ErrInjected) {
				t.Fatalf("Append with a failing WAL %s: %v", fk.name, err)
			}
			if n, ferr := fatal.get(); n != 1 || !errors.Is(ferr, engine.ErrJournalFailed) {
				t.Fatalf("OnFatal called %d times with %v", n, ferr)
			}

			// Latched: the disk works again, but Append fails at once
			// without touching the WAL, and OnFatal is not called again.
			faults.armed.Store(false)
			ops := faults.ops.Load()
			for _, sync := range []bool{true, false} {
				if err := j.Append(ctx, batchOf("after"), sync); !errors.Is(err, engine.ErrJournalFailed) {
					t.Fatalf("Append after failure: %v", err)
				}
			}
			if _, err := j.Compact(ctx, t0); !errors.Is(err, engine.ErrJournalFailed) {
				t.Fatalf("Compact after failure: %v", err)
			}
			if got := faults.ops.Load(); got != ops {
				t.Fatalf("Appends after failure did %d WAL operations", got-ops)
			}
			if n, _ := fatal.get(); n != 1 {
				t.Fatalf("OnFatal called %d times", n)
			}
			if err := j.Close(); !errors.Is(err, engine.ErrJournalFailed) {
				t.Fatalf("Close after failure: %v", err)
			}

			// Restart from what was synced: the earlier batch is there.
			j2 := openPebble(t, "/j", journal.Options{FS: mem.CrashClone(vfs.CrashCloneCfg{})})
			l := load(t, j2)
			if l.Payments["before"] == nil || l.Payments["after"] != nil {
				t.Fatalf("after restart: %v", keys(l.Payments))
			}
		})
	}
}

// Concurrent writers when the WAL fails: each error is ErrJournalFailed,
// OnFatal fires once, and every Append that returned nil is durable. With
// DetachCommits every Append returns; without it, commits that Pebble
// wedged may stay blocked (the process is meant to exit), but at least one
// Append reports the failure.
func TestPebbleWALFaultConcurrent(t *testing.T) {
	for _, detach := range []bool{true, false} {
		for _, fk := range faultKinds {
			t.Run(fmt.Sprintf("%s/detach=%v", fk.name, detach), func(t *testing.T) {
				walFaultConcurrent(t, fk.kinds, detach)
			})
		}
	}
}

func walFaultConcurrent(t *testing.T, kinds []errorfs.OpKind, detach bool) {
	mem := vfs.NewCrashableMem()
	faults := &walFaults{kinds: kinds}
	var fatal fatalRecorder
	j, err := journal.Open("/j", journal.Options{FS: errorfs.Wrap(mem, faults), Logger: quiet, OnFatal: fatal.onFatal, CloseTimeout: time.Second, DetachCommits: detach})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 64
	var ok sync.Map
	var started, returned atomic.Int64
	var mu sync.Mutex
	var errs []error
	// Each writer makes preArm appends, then waits for the fault to be
	// armed: the first memtable (256 KiB) must not fill up before it is,
	// as a WAL rotation after a WAL failure makes Pebble end the process
	// (see doc.go, Fail-stop), however slowly this goroutine is scheduled.
	const preArm = 3
	armed := make(chan struct{})
	for w := range writers {
		go func() {
			defer returned.Add(1)
			for i := 0; ; i++ {
				if i == preArm {
					<-armed
				}
				id := fmt.Sprintf("w%02d-%04d", w, i)
				started.Add(1)
				if err := j.Append(context.Background(), batchOf(id), true); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				ok.Store(id, true)
			}
		}()
	}
	for started.Load() < writers*preArm {
		time.Sleep(time.Millisecond)
	}
	faults.armed.Store(true)
	close(armed)
	wait := 3 * time.Second
	if detach {
		wait = 20 * time.Second
	}
	for deadline := time.Now().Add(wait); returned.Load() < writers && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if stuck := writers - returned.Load(); stuck > 0 {
		if detach {
			var buf bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			t.Fatalf("%d Appends still blocked after the WAL failed:\n%s", stuck, buf.String())
		}
		t.Logf("%d Appends blocked inside Pebble (allowed without DetachCommits)", stuck)
	}
	mu.Lock()
	if len(errs) == 0 {
		t.Fatal("no Append reported the failure")
	}
	for _, err := range errs {
		if !errors.Is(err, engine.ErrJournalFailed) {
			t.Fatalf("Append: %v", err)
		}
	}
	mu.Unlock()
	if n, _ := fatal.get(); n != 1 {
		t.Fatalf("OnFatal called %d times", n)
	}
	clone := mem.CrashClone(vfs.CrashCloneCfg{})
	_ = j.Close()
	l := load(t, openPebble(t, "/j", journal.Options{FS: clone}))
	acked := 0
	ok.Range(func(k, _ any) bool {
		acked++
		if l.Payments[k.(string)] == nil {
			t.Errorf("acknowledged append %s lost", k)
		}
		return true
	})
	t.Logf("%d appends acknowledged before the fault, all present", acked)
}

// A crash at any point keeps every synced batch, whatever part of the
// unsynced tail reached the disk.
func TestPebbleCrashKeepsSynced(t *testing.T) {
	mem := vfs.NewCrashableMem()
	j := openPebble(t, "/j", journal.Options{FS: mem})
	synced, unsynced := writeSyncedThenUnsynced(t, j)
	for _, pct := range []int{0, 30, 70, 100} {
		for seed := int64(0); seed < 3; seed++ {
			clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(uint64(seed), 0))})
			c := openPebble(t, "/j", journal.Options{FS: clone})
			l := load(t, c)
			checkSynced(t, l, synced)
			if len(l.Payments) > len(synced)+len(unsynced) {
				t.Errorf("crash made up payments: %d", len(l.Payments))
			}
			_ = c.Close()
		}
	}
}

// writeSyncedThenUnsynced appends synced batches, then enough unsynced
// ones that whole WAL blocks reach the file without an fsync.
func writeSyncedThenUnsynced(t *testing.T, j engine.Journal) (synced, unsynced []string) {
	t.Helper()
	for i := range 50 {
		id := fmt.Sprintf("s%03d", i)
		appendOK(t, j, batchOf(id))
		synced = append(synced, id)
	}
	for i := range 300 {
		id := fmt.Sprintf("u%03d", i)
		if err := j.Append(context.Background(), batchOf(id), false); err != nil {
			t.Fatal(err)
		}
		unsynced = append(unsynced, id)
	}
	return synced, unsynced
}

func checkSynced(t *testing.T, l loaded, synced []string) {
	t.Helper()
	for _, id := range synced {
		if l.Payments[id] == nil {
			t.Fatalf("synced payment %s lost", id)
		}
	}
}

// Torn tail: the WAL is cut at several points inside its unsynced tail
// (a write torn by power loss); the store opens and keeps every synced
// batch.
func TestPebbleTornWALTail(t *testing.T) {
	mem := vfs.NewCrashableMem()
	j := openPebble(t, "/j", journal.Options{FS: mem})
	synced, _ := writeSyncedThenUnsynced(t, j)

	walName, syncedLen := newestWAL(t, mem.CrashClone(vfs.CrashCloneCfg{}), "/j")
	// Pebble's WAL flusher writes full blocks in the background.
	var fullLen int64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, fullLen = newestWAL(t, mem, "/j"); fullLen > syncedLen {
			break
		}
	}
	if fullLen <= syncedLen {
		t.Fatalf("no unsynced WAL tail to tear (synced %d, full %d)", syncedLen, fullLen)
	}
	cuts := []int64{syncedLen, syncedLen + 1, syncedLen + 7, (syncedLen + fullLen) / 2, fullLen - 1}
	for _, cut := range cuts {
		clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(1, 0))})
		truncate(t, clone, walName, cut)
		c := openPebble(t, "/j", journal.Options{FS: clone})
		checkSynced(t, load(t, c), synced)
		_ = c.Close()
	}
}

// newestWAL returns the path and size of the highest-numbered WAL file.
func newestWAL(t *testing.T, fs vfs.FS, dir string) (string, int64) {
	t.Helper()
	names, err := fs.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wals []string
	for _, n := range names {
		if strings.HasSuffix(n, ".log") {
			wals = append(wals, n)
		}
	}
	if len(wals) == 0 {
		t.Fatal("no WAL")
	}
	sort.Strings(wals)
	name := fs.PathJoin(dir, wals[len(wals)-1])
	st, err := fs.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return name, st.Size()
}

func truncate(t *testing.T, fs vfs.FS, name string, size int64) {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(f)
	_ = f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Remove(name); err != nil {
		t.Fatal(err)
	}
	w, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:size]); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
}

// The same on a real disk: the directory of a live store is copied (a
// crash with the page cache intact) and the copy's WAL cut inside the
// part written after the last sync.
func TestPebbleDiskCopyWhileOpen(t *testing.T) {
	dir := t.TempDir()
	j := openPebble(t, dir, journal.Options{})
	var synced []string
	for i := range 50 {
		id := fmt.Sprintf("s%03d", i)
		appendOK(t, j, batchOf(id))
		synced = append(synced, id)
	}
	wal, syncedLen := newestWAL(t, vfs.Default, dir)
	for i := range 300 {
		if err := j.Append(context.Background(), batchOf(fmt.Sprintf("u%03d", i)), false); err != nil {
			t.Fatal(err)
		}
	}
	var wal2 string
	var fullLen int64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if wal2, fullLen = newestWAL(t, vfs.Default, dir); fullLen > syncedLen {
			break
		}
	}
	if wal2 != wal || fullLen <= syncedLen {
		t.Fatalf("no unsynced tail in %s (synced %d, now %s %d)", wal, syncedLen, wal2, fullLen)
	}
	for _, cut := range []int64{-1, syncedLen + 1, (syncedLen + fullLen) / 2, fullLen - 3} {
		cp := t.TempDir()
		copyDir(t, dir, cp)
		if cut >= 0 {
			if err := os.Truncate(filepath.Join(cp, filepath.Base(wal)), cut); err != nil {
				t.Fatal(err)
			}
		}
		c := openPebble(t, cp, journal.Options{})
		checkSynced(t, load(t, c), synced)
		_ = c.Close()
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "LOCK" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A full disk: the error says so (the engine may report it as such).
func TestPebbleDiskFull(t *testing.T) {
	faults := &walFaults{kinds: faultKinds[0].kinds, err: &os.PathError{Op: "write", Path: "/j/000002.log", Err: syscall.ENOSPC}}
	j := openPebble(t, "/j", journal.Options{FS: errorfs.Wrap(vfs.NewMem(), faults), CloseTimeout: time.Second})
	appendOK(t, j, batchOf("before"))
	faults.armed.Store(true)
	err := j.Append(context.Background(), batchOf("failing"), true)
	if !errors.Is(err, engine.ErrJournalFailed) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append on a full disk: %v", err)
	}
}

func TestMemFailNext(t *testing.T) {
	j := journal.NewMem()
	var fatal fatalRecorder
	j.SetOnFatal(fatal.onFatal)
	appendOK(t, j, batchOf("before"))
	disk := errors.New("no space left on device")
	j.FailNext(disk)
	err := j.Append(context.Background(), batchOf("failing"), true)
	if !errors.Is(err, engine.ErrJournalFailed) || !errors.Is(err, disk) {
		t.Fatalf("Append: %v", err)
	}
	if err := j.Append(context.Background(), batchOf("after"), true); !errors.Is(err, engine.ErrJournalFailed) {
		t.Fatalf("Append after failure: %v", err)
	}
	if n, _ := fatal.get(); n != 1 {
		t.Fatalf("OnFatal called %d times", n)
	}
	mustEqual(t, "payments", keys(load(t, j).Payments), []string{"before"})
}

// Load refuses a value it cannot decode, or one under another id's key.
func TestPebbleLoadIsStrict(t *testing.T) {
	good := journal.AppendPayment(nil, payment("p1", codec.StatusProcessing, t0, 1))
	for name, kv := range map[string][2]string{
		"garbled":    {"p/p1", string(good[:len(good)-1])},
		"wrong key":  {"p/p2", string(good)},
		"wrong kind": {"r/p1", string(good)},
	} {
		t.Run(name, func(t *testing.T) {
			fs := vfs.NewMem()
			j := openPebble(t, "/j", journal.Options{FS: fs})
			_ = j.Close()
			db, err := pebble.Open("/j", &pebble.Options{FS: fs, Logger: quietPebble{}})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Set([]byte(kv[0]), []byte(kv[1]), pebble.Sync); err != nil {
				t.Fatal(err)
			}
			_ = db.Close()
			j = openPebble(t, "/j", journal.Options{FS: fs})
			err = j.Load(context.Background(), func(*engine.Record) error { return nil })
			var fe *journal.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Load: %v", err)
			}
			t.Log(err)
		})
	}
}

type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(f string, a ...any) {
	panic(fmt.Sprintf(f, a...))
}

// The same fault on a real disk (the OS file path of Pebble's syncing
// WAL file): fail-stop, and a restart on the same directory has every
// synced batch.
func TestPebbleWALFaultOnDisk(t *testing.T) {
	for _, fk := range faultKinds {
		t.Run(fk.name, func(t *testing.T) {
			dir := t.TempDir()
			faults := &walFaults{kinds: fk.kinds}
			var fatal fatalRecorder
			j, err := journal.Open(dir, journal.Options{FS: errorfs.Wrap(vfs.Default, faults), Logger: quiet, OnFatal: fatal.onFatal, CloseTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			appendOK(t, j, batchOf("before"))
			faults.armed.Store(true)
			if err := j.Append(context.Background(), batchOf("failing"), true); !errors.Is(err, errorfs.ErrInjected) || !errors.Is(err, engine.ErrJournalFailed) {
				t.Fatalf("Append: %v", err)
			}
			if n, _ := fatal.get(); n != 1 {
				t.Fatalf("OnFatal called %d times", n)
			}
			faults.armed.Store(false)
			if err := j.Close(); !errors.Is(err, engine.ErrJournalFailed) {
				t.Fatalf("Close: %v", err)
			}
			l := load(t, openPebble(t, dir, journal.Options{}))
			if l.Payments["before"] == nil {
				t.Fatalf("after restart: %v", keys(l.Payments))
			}
		})
	}
}

// With BackgroundSync an unsynced Append becomes durable with no further
// Append: a crash that keeps only synced data (the unsynced tail dropped
// whole) still has it. Without it, the same crash loses it (the control:
// nothing else syncs the WAL here).
func TestPebbleBackgroundSync(t *testing.T) {
	for _, bg := range []bool{false, true} {
		mem := vfs.NewCrashableMem()
		j := openPebble(t, "/j", journal.Options{FS: mem, BackgroundSync: bg})
		appendOK(t, j, batchOf("s1"))
		if err := j.Append(context.Background(), batchOf("u1"), false); err != nil {
			t.Fatal(err)
		}
		survives := func() bool {
			c := openPebble(t, "/j", journal.Options{FS: mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})})
			defer c.Close()
			l := load(t, c)
			checkSynced(t, l, []string{"s1"})
			return l.Payments["u1"] != nil
		}
		got := survives()
		for deadline := time.Now().Add(5 * time.Second); bg && !got && time.Now().Before(deadline); {
			runtime.Gosched()
			got = survives()
		}
		if got != bg {
			t.Errorf("BackgroundSync %v: the unsynced append survives a crash: %v", bg, got)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
