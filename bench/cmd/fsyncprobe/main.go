// Command fsyncprobe measures the disk's fdatasync latency the way the
// Pebble journal's WAL pays it: append a small record to a file, then
// fdatasync it, N times, and print the quantiles. A synced pay waits for
// at least one such fsync (its intent, before the wallet call), so the
// disk's fsync p99 bounds paycode's own pay p99 from below; run it in the
// same sitting as bench/ratio.sh or bench/trace.sh, on the directory
// serve's -data lives on:
//
//	go run ./bench/cmd/fsyncprobe -dir /tmp -n 1000
//
// -interval spaces the fsyncs (the journal's syncWindow makes at most one
// per window), so the disk is probed at the rate serve would sync, not
// back to back.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "directory on the disk to probe")
	n := flag.Int("n", 1000, "fsyncs")
	size := flag.Int("size", 4096, "bytes appended before each fsync")
	interval := flag.Duration("interval", time.Millisecond, "pause between fsyncs")
	flag.Parse()
	f, err := os.CreateTemp(*dir, "fsyncprobe-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fsyncprobe:", err)
		os.Exit(1)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	buf := make([]byte, *size)
	for range *n {
		if _, err := f.Write(buf); err != nil {
			fmt.Fprintln(os.Stderr, "fsyncprobe:", err)
			os.Exit(1)
		}
		start := time.Now()
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			fmt.Fprintln(os.Stderr, "fsyncprobe:", err)
			os.Exit(1)
		}
		_ = h.RecordValue(time.Since(start).Microseconds())
		time.Sleep(*interval)
	}
	q := func(p float64) time.Duration { return time.Duration(h.ValueAtQuantile(p)) * time.Microsecond }
	fmt.Printf("fdatasync of %d-byte appends in %s, n=%d: p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		*size, *dir, h.TotalCount(), q(50), q(90), q(99), q(99.9), time.Duration(h.Max())*time.Microsecond)
}
