//go:build unix

package server

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// isLockBusy reports whether err is the lock call's refusal of a lock
// another process holds: fcntl(F_SETLK) answers EAGAIN (Linux) or EACCES
// (POSIX allows either). openError asks it only of errors that are not a
// file's failed open, whose EACCES is a permissions problem.
func isLockBusy(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EACCES)
}

// lockHolder asks the system which process holds Pebble's LOCK file in
// dir (Pebble takes a POSIX record lock on it); 0 when unknown.
func lockHolder(dir string) int {
	f, err := os.Open(filepath.Join(dir, "LOCK"))
	if err != nil {
		return 0
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil || lk.Type == unix.F_UNLCK {
		return 0
	}
	return int(lk.Pid)
}
