package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// withFree makes statFree report space for the test's duration.
func withFree(t *testing.T, space fsSpace, known bool) {
	t.Helper()
	old := statFree
	statFree = func(string) (fsSpace, bool, error) { return space, known, nil }
	t.Cleanup(func() { statFree = old })
}

// TestCheckFreeSpace: a data directory is refused, with a message that
// names it and the space, when its filesystem has less than OpenReserve
// plus its WALs to replay, or fewer than OpenReserveFiles inodes; it is
// let through when the system does not tell.
func TestCheckFreeSpace(t *testing.T) {
	dir := t.TempDir()
	const wal = 3 << 20
	if err := os.WriteFile(filepath.Join(dir, "000002.log"), make([]byte, wal), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "000001.sst"), make([]byte, 5<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		space fsSpace
		known bool
		want  string // "" for no error
	}{
		{"plenty", fsSpace{Bytes: 1 << 40, Files: 1 << 20, FilesKnown: true}, true, ""},
		{"full", fsSpace{Files: 1 << 20, FilesKnown: true}, true, "its filesystem has 0 B free; the journal needs 21.6 MiB to open (3.0 MiB of WAL to replay, 18.6 MiB for a new WAL"},
		{"room without the WAL's flush", fsSpace{Bytes: OpenReserve + wal - 1, Files: 1 << 20, FilesKnown: true}, true, "has 21.6 MiB free; the journal needs 21.6 MiB"},
		{"just enough", fsSpace{Bytes: OpenReserve + wal, Files: OpenReserveFiles, FilesKnown: true}, true, ""},
		{"no inodes", fsSpace{Bytes: 1 << 40, Files: OpenReserveFiles - 1, FilesKnown: true}, true, "its filesystem has 63 free inodes; the journal needs 64"},
		{"inodes not counted", fsSpace{Bytes: 1 << 40}, true, ""},
		{"unknown", fsSpace{}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withFree(t, tc.space, tc.known)
			err := checkFreeSpace(dir)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatal("let through")
			case tc.want != "" && (!strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "data directory "+dir+":") || strings.Contains(err.Error(), "\n")):
				t.Fatalf("message %q, want one line naming %s with %q", err, dir, tc.want)
			}
		})
	}
}

// TestOpenJournalRefusesFullDisk: OpenJournal refuses a full filesystem
// before Pebble opens anything (no LOCK, no WAL), rather than leaving
// Pebble's Open retrying its recovery flush for ever.
func TestOpenJournalRefusesFullDisk(t *testing.T) {
	withFree(t, fsSpace{Bytes: 4 << 10, Files: 1 << 20, FilesKnown: true}, true)
	dir := filepath.Join(t.TempDir(), "data")
	j, _, err := OpenJournal(context.Background(), JournalConfig{Dir: dir})
	if err == nil {
		j.Close()
		t.Fatal("opened on a full filesystem")
	}
	if !strings.Contains(err.Error(), "its filesystem has 4.0 KiB free") {
		t.Errorf("message: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("Pebble opened: %v", ents)
	}
}

// TestFreeSpace: statfs tells this machine's temporary directory's free
// space (some, or the tests could not run).
func TestFreeSpace(t *testing.T) {
	s, known, err := freeSpace(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if known && s.Bytes == 0 {
		t.Errorf("no free space reported: %+v", s)
	}
}

// TestOpenError: only the lock call's own refusal (a bare errno, not a
// file that could not be opened) names another paycode as the holder;
// a LOCK file or directory this user may not open is a permissions
// problem, a read-only filesystem says so, and other errors pass
// through.
func TestOpenError(t *testing.T) {
	const dir = "/srv/paycode"
	lock := dir + "/LOCK"
	wrap := func(err error) error { return fmt.Errorf("journal: opening %s: %w", dir, err) } // as journal.Open
	for _, tc := range []struct {
		name string
		err  error
		want string
		held bool
	}{
		{"fcntl EAGAIN", syscall.EAGAIN, "data directory /srv/paycode is held by another paycode: stop it", true},
		{"fcntl EWOULDBLOCK", syscall.EWOULDBLOCK, "is held by another paycode", true},
		{"fcntl EACCES", syscall.EACCES, "is held by another paycode", true},
		{"open LOCK EACCES", &fs.PathError{Op: "open", Path: lock, Err: syscall.EACCES}, "data directory /srv/paycode: permission denied on /srv/paycode/LOCK: it must be readable and writable by the user paycode runs as (uid", false},
		{"open LOCK EPERM", &fs.PathError{Op: "open", Path: lock, Err: syscall.EPERM}, "permission denied on /srv/paycode/LOCK", false},
		{"open dir EACCES", &fs.PathError{Op: "open", Path: dir, Err: syscall.EACCES}, "permission denied on /srv/paycode:", false},
		{"open LOCK EROFS", &fs.PathError{Op: "open", Path: lock, Err: syscall.EROFS}, "data directory /srv/paycode is on a read-only filesystem (open /srv/paycode/LOCK)", false},
		{"open LOCK EAGAIN", &fs.PathError{Op: "open", Path: lock, Err: syscall.EAGAIN}, "journal: opening /srv/paycode", false},
		{"open under a file", &fs.PathError{Op: "open", Path: dir, Err: syscall.ENOTDIR}, "data directory /srv/paycode: /srv/paycode is not a directory", false},
		{"newer format", errors.New(`pebble: database "/srv/paycode" written in unknown format major version 99`), "data directory /srv/paycode was written by a newer paycode", false},
		{"other", errors.New("pebble: corrupt manifest"), "pebble: corrupt manifest", false},
		{"same process", errors.New("lock held by current process"), "this process has it open already", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := openError(dir, wrap(tc.err))
			if !strings.Contains(got.Error(), tc.want) || strings.Contains(got.Error(), "\n") {
				t.Errorf("message %q, want one line with %q", got, tc.want)
			}
			if errors.Is(got, errLocked) != tc.held {
				t.Errorf("%q: held by another = %v, want %v", got, errors.Is(got, errLocked), tc.held)
			}
		})
	}
}

// TestDataDirError: a data directory that is a symbolic link to nowhere,
// or a file, is named as such rather than as MkdirAll's "file exists" or
// "not a directory".
func TestDataDirError(t *testing.T) {
	tmp := t.TempDir()
	dangling := filepath.Join(tmp, "link")
	if err := os.Symlink(filepath.Join(tmp, "gone"), dangling); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{dangling, "data directory " + dangling + " is a symbolic link to " + filepath.Join(tmp, "gone") + ", which does not exist"},
		{file, "data directory " + file + " is not a directory"},
		{filepath.Join(file, "data"), "data directory " + filepath.Join(file, "data") + ": " + file + " is not a directory"},
	} {
		_, _, err := OpenJournal(context.Background(), JournalConfig{Dir: tc.dir})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenJournal(%s): %v, want %q", tc.dir, err, tc.want)
		}
	}
}
