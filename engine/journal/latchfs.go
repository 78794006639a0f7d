package journal

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// latchFS wraps the store's filesystem so that the first failed write or
// sync of a WAL file latches the journal as failed at that instant, in
// Pebble's WAL flusher, before Pebble reports it to any committer. From
// then on Appends (synced or not) fail without entering Pebble, which
// narrows the window in which a commit could run into Pebble's own
// failure handling (see doc.go, Fail-stop), and the latched error keeps
// the OS error (errors.Is(err, syscall.ENOSPC) tells a full disk).
type latchFS struct {
	vfs.FS
	fs *failState
}

func isWAL(name string) bool { return strings.HasSuffix(name, ".log") }

func (l *latchFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := l.FS.Create(name, category)
	return l.wrap(name, "create", f, err)
}

func (l *latchFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := l.FS.ReuseForWrite(oldname, newname, category)
	return l.wrap(newname, "reuse", f, err)
}

func (l *latchFS) OpenReadWrite(name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := l.FS.OpenReadWrite(name, category, opts...)
	return l.wrap(name, "open", f, err)
}

func (l *latchFS) wrap(name, op string, f vfs.File, err error) (vfs.File, error) {
	if !isWAL(name) {
		return f, err
	}
	if err != nil {
		l.latch(name, op, err)
		return f, err
	}
	return &latchFile{File: f, l: l, name: name}, nil
}

// latch records a WAL failure. OnFatal runs on its own goroutine: this is
// Pebble's flusher, which Close would wait for.
func (l *latchFS) latch(name, op string, err error) {
	l.fs.fail(fmt.Errorf("journal: WAL %s: %s: %w", name, op, err))
	go l.fs.notify()
}

// latchFile latches on failed writes and syncs of one WAL file.
type latchFile struct {
	vfs.File
	l    *latchFS
	name string
}

func (f *latchFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	if err != nil {
		f.l.latch(f.name, "write", err)
	}
	return n, err
}

func (f *latchFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	if err != nil {
		f.l.latch(f.name, "write", err)
	}
	return n, err
}

func (f *latchFile) Sync() error {
	err := f.File.Sync()
	if err != nil {
		f.l.latch(f.name, "sync", err)
	}
	return err
}

func (f *latchFile) SyncData() error {
	err := f.File.SyncData()
	if err != nil {
		f.l.latch(f.name, "sync", err)
	}
	return err
}

func (f *latchFile) SyncTo(length int64) (bool, error) {
	full, err := f.File.SyncTo(length)
	if err != nil {
		f.l.latch(f.name, "sync", err)
	}
	return full, err
}
