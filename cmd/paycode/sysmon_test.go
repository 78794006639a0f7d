package main

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestSysmonEnv(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("paycode re-executes itself only on Linux")
	}
	const on = "GODEBUG=" + sysmonDebug
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want []string // nil: no re-exec
	}{
		{"serve", []string{"paycode", "serve"}, []string{"HOME=/h"}, []string{"HOME=/h", on}},
		{"sim", []string{"paycode", "sim", "-latency", "zero"}, nil, []string{on}},
		{"load", []string{"paycode", "load"}, nil, []string{on}},
		{"demo", []string{"paycode", "demo"}, nil, []string{on}},
		{"other commands as they are", []string{"paycode", "decode", "x.png"}, nil, nil},
		{"no command", []string{"paycode"}, nil, nil},
		{"GODEBUG kept", []string{"paycode", "serve"}, []string{"GODEBUG=gctrace=1", "A=b"}, []string{"A=b", "GODEBUG=gctrace=1," + sysmonDebug}},
		{"empty GODEBUG", []string{"paycode", "serve"}, []string{"GODEBUG="}, []string{on}},
		{"own schedtrace kept", []string{"paycode", "serve"}, []string{"GODEBUG=gctrace=1,schedtrace=1000"}, nil},
		{"own schedtrace spaced", []string{"paycode", "serve"}, []string{"GODEBUG=gctrace=1, schedtrace=1000"}, nil},
		{"opt-out", []string{"paycode", "serve"}, []string{"PAYCODE_SYSMON=default"}, nil},
		{"already re-executed", []string{"paycode", "serve"}, []string{on}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sysmonEnv(tc.args, tc.env)
			if !slices.Equal(got, tc.want) {
				t.Errorf("sysmonEnv(%q, %q) = %q, want %q", tc.args, tc.env, got, tc.want)
			}
		})
	}
}

// TestSysmonReexec runs the real binary: serve's process (same PID: the
// exec replaces its image) must run with the setting in its environment,
// and without it when the operator opts out.
func TestSysmonReexec(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("paycode re-executes itself only on Linux")
	}
	for _, tc := range []struct {
		env  []string
		want bool
	}{
		{[]string{"GODEBUG=gctrace=0"}, true},
		{[]string{"PAYCODE_SYSMON=default"}, false},
	} {
		var environ []byte
		rc, _, stderr := serveBinaryWith(t, t.TempDir(), tc.env, func(pid int) {
			var err error
			if environ, err = os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ"); err != nil {
				t.Error(err)
			}
		}, "-memory", "-listen", "127.0.0.1:0", "-admin", "")
		if rc != 0 {
			t.Fatalf("serve with %q: exit %d: %s", tc.env, rc, stderr)
		}
		vars := strings.Split(string(environ), "\x00")
		var godebug []string // only these are printed: the rest may hold secrets
		for _, kv := range vars {
			if strings.HasPrefix(kv, "GODEBUG=") {
				godebug = append(godebug, kv)
			}
		}
		got := slices.ContainsFunc(godebug, func(kv string) bool { return strings.Contains(kv, sysmonDebug) })
		if tc.want && !slices.Contains(godebug, "GODEBUG=gctrace=0,"+sysmonDebug) || !tc.want && got {
			t.Errorf("serve with %q: the setting in its environment %v, want %v: %q", tc.env, got, tc.want, vars)
		}
	}
}
