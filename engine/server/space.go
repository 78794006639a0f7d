package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paycode/paycode/engine/journal"
)

// OpenReserve is the free space, besides the WALs to replay, that the
// Pebble journal's filesystem must have for OpenJournal to open it:
// Pebble fallocates 110 % of a memtable (journal.DefaultMemTableSize,
// 16 MiB) for each new WAL, the WAL fills to about that before it
// rotates, and 1 MiB covers the MANIFEST, the OPTIONS file and the
// marker files Open writes (a few KiB each). About 18.6 MiB.
//
// Why check at all: Pebble's Open flushes the WALs it replays to a
// table and waits for the flush; on a full disk the flush fails, and
// Pebble v2.1.7 schedules it again at once (DB.flush: "TODO: count
// consecutive flush errors and backoff"), so Open never returns: one
// core busy, a new file number per try, and a logged error each. A full
// disk at start is a clear refusal instead.
const OpenReserve = journal.DefaultMemTableSize + journal.DefaultMemTableSize/10 + 1<<20

// OpenReserveFiles is the free inodes the journal's filesystem must have
// for OpenJournal to open it, where the filesystem counts them: Open
// makes a WAL, a table per recovery flush, a MANIFEST, an OPTIONS file
// and markers (under ten); the rest is room for the WAL rotations,
// flushes and compactions of the first minutes. A filesystem out of
// inodes fails Pebble's recovery flush just as a full one does.
const OpenReserveFiles = 64

// fsSpace is what statfs tells of a filesystem's free space.
type fsSpace struct {
	Bytes uint64 // free bytes for an unprivileged user
	Files uint64 // free inodes
	// FilesKnown: the filesystem counts inodes (btrfs, for one, reports
	// none and makes them as needed).
	FilesKnown bool
}

// statFree is the free space of dir's filesystem, and whether the
// system tells; tests replace it.
var statFree = freeSpace

// checkFreeSpace refuses a data directory whose filesystem has less free
// space than its WALs to replay plus OpenReserve, or fewer free inodes
// than OpenReserveFiles. When the system does
// not tell the free space (or statfs fails: Pebble then reports what is
// wrong with the directory) it lets Open go ahead.
func checkFreeSpace(dir string) error {
	free, ok, err := statFree(dir)
	if err != nil || !ok {
		return nil
	}
	replay := walBytes(dir)
	if need := replay + OpenReserve; free.Bytes < need {
		return fmt.Errorf("data directory %s: its filesystem has %s free; the journal needs %s to open (%s of WAL to replay, %s for a new WAL and the MANIFEST and OPTIONS files): free some space or use another data directory",
			dir, bytesString(free.Bytes), bytesString(need), bytesString(replay), bytesString(OpenReserve))
	}
	if free.FilesKnown && free.Files < OpenReserveFiles {
		return fmt.Errorf("data directory %s: its filesystem has %d free inodes; the journal needs %d to open and run: remove files or use another data directory",
			dir, free.Files, OpenReserveFiles)
	}
	return nil
}

// walBytes is the size of the WALs in dir (Pebble's NNNNNN.log files):
// what Open replays and flushes to a table before it can remove them.
// A preallocated WAL's size is what was written, not what was reserved.
func walBytes(dir string) uint64 {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n uint64
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".log") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			n += uint64(fi.Size())
		}
	}
	return n
}

// bytesString prints n in B, KiB or MiB (one decimal).
func bytesString(n uint64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
