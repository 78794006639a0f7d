//go:build linux || darwin

package server

import "golang.org/x/sys/unix"

// freeSpace is statfs's blocks available to an unprivileged user (what
// df shows as available) times the block size, conservative for root,
// who may also use the reserved blocks; and its free inodes, when it
// counts them (a total of zero: it does not).
func freeSpace(dir string) (fsSpace, bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fsSpace{}, false, err
	}
	return fsSpace{
		Bytes:      uint64(st.Bavail) * uint64(st.Bsize),
		Files:      uint64(st.Ffree),
		FilesKnown: st.Files > 0,
	}, true, nil
}
