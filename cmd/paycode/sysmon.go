package main

import (
	"os"
	"runtime"
	"strings"
	"syscall"
)

// Go's system monitor (sysmon) sleeps deeply while every P is idle, and
// the first system call after such an idle spell wakes it (a futex) to
// naps of 20 µs — each a nanosleep and a context switch — until the
// process is idle again. A server at a few thousand requests a second
// goes idle between requests, so it pays that wake-up and those naps on
// nearly every request: on the 2-core VM paycode is measured on, 25 % of
// a bare fasthttp server's CPU was under runtime.sysmon (docs/
// performance.md, "sysmon"). The runtime has no setting for it, but with
// GODEBUG's schedtrace set sysmon never sleeps deeply (it must print the
// trace on time): it stays awake and, as long as it finds nothing to do,
// backs off to naps of 10 ms. schedtrace=2147483647 asks for a trace
// every 2^31-1 ms (24.8 days).
//
// The setting must be in the environment when the process starts, so
// the commands that serve traffic re-execute themselves once with it
// (the same binary, arguments and PID). Opt-outs: GODEBUG already
// naming schedtrace (yours is kept), or PAYCODE_SYSMON=default.
//
// What it costs: sysmon notices a thread blocked in a system call (a WAL
// fdatasync) after up to 10 ms instead of 20 µs before handing its P to
// other goroutines — idle Ps and work stealing cover that on a loaded
// node — and the runtime prints one "SCHED" line to stderr every 24.8
// days, or at start on a host up longer than that (the runtime counts
// from boot).
const sysmonDebug = "schedtrace=2147483647"

// sysmonCommands are the commands that keep sysmon awake: those that
// serve or send traffic for long.
var sysmonCommands = map[string]bool{"serve": true, "sim": true, "load": true, "demo": true}

// sysmonEnv returns the environment to re-execute with, or nil when the
// process should carry on as it is.
func sysmonEnv(args []string, env []string) []string {
	if runtime.GOOS != "linux" || len(args) < 2 || !sysmonCommands[args[1]] {
		return nil
	}
	godebug, at := "", -1
	for i, kv := range env {
		switch {
		case kv == "PAYCODE_SYSMON=default":
			return nil
		case strings.HasPrefix(kv, "GODEBUG="):
			godebug, at = kv[len("GODEBUG="):], i
		}
	}
	for _, s := range strings.Split(godebug, ",") {
		if strings.HasPrefix(strings.TrimSpace(s), "schedtrace=") {
			return nil
		}
	}
	out := make([]string, 0, len(env)+1)
	for i, kv := range env {
		if i != at {
			out = append(out, kv)
		}
	}
	if godebug != "" {
		godebug += ","
	}
	return append(out, "GODEBUG="+godebug+sysmonDebug)
}

// keepSysmonAwake re-executes paycode with sysmonEnv's environment when
// it asks for one. It returns only when it does not (or the exec fails:
// the process then carries on with Go's default).
func keepSysmonAwake() {
	env := sysmonEnv(os.Args, os.Environ())
	if env == nil {
		return
	}
	// /proc/self/exe is this very binary even if its file was replaced
	// or removed since it started (a deploy under way).
	_ = syscall.Exec("/proc/self/exe", os.Args, env)
}
