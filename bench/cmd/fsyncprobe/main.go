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
//
// It also prints the CPU each write and fdatasync cost the calling thread
// (RUSAGE_THREAD around them): on a virtual disk the kernel's share of an
// fsync is paid on the caller's core, and that share is what a sync
// window trades against latency. -overwrite writes over a file written
// once before instead of appending, as Pebble does in a recycled WAL file
// (on ext4 an append's fdatasync also commits the file's new size).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "directory on the disk to probe")
	n := flag.Int("n", 1000, "fsyncs")
	size := flag.Int("size", 4096, "bytes appended before each fsync")
	interval := flag.Duration("interval", time.Millisecond, "pause between fsyncs")
	overwrite := flag.Bool("overwrite", false, "write over a file written before (a recycled WAL) instead of appending")
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
	mode := "appends"
	if *overwrite {
		mode = "overwrites"
		if err := prewrite(f, *n**size); err != nil {
			fmt.Fprintln(os.Stderr, "fsyncprobe:", err)
			os.Exit(1)
		}
	}
	// The thread's CPU is read around each write and fdatasync, so the
	// goroutine stays on one thread.
	runtime.LockOSThread()
	var cpu time.Duration
	for range *n {
		before := threadCPU()
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
		cpu += threadCPU() - before
		time.Sleep(*interval)
	}
	q := func(p float64) time.Duration { return time.Duration(h.ValueAtQuantile(p)) * time.Microsecond }
	fmt.Printf("fdatasync of %d-byte %s in %s, n=%d: p50 %s  p90 %s  p99 %s  p99.9 %s  max %s; CPU per write+fdatasync %.0fµs\n",
		*size, mode, *dir, h.TotalCount(), q(50), q(90), q(99), q(99.9), time.Duration(h.Max())*time.Microsecond,
		float64(cpu.Microseconds())/float64(max(h.TotalCount(), 1)))
}

// prewrite fills f with size bytes, syncs it and rewinds, so the probe's
// writes land on blocks the file already has.
func prewrite(f *os.File, size int) error {
	if _, err := f.Write(make([]byte, size)); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	_, err := f.Seek(0, 0)
	return err
}

// threadCPU is the calling thread's user and system CPU so far.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
