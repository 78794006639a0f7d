package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paycode/paycode/loadtest/killtest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	rc := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(rc)
}

// paycodeBinary builds ./cmd/paycode once per test run and returns its
// path: the tests that need the real binary (exit codes, stdout and
// stderr as a user sees them) share it.
func paycodeBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "paycode-bin-"); binErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		binPath, binErr = killtest.BuildBinary(ctx, ".", binDir)
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// runBinary runs the binary with args to completion (bounded) and
// returns its exit code, stdout and stderr.
func runBinary(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	bin := paycodeBinary(t) // before the deadline: the first call builds
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("paycode %s: did not finish: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// lockedBuf is an output the test reads while the process writes it.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveBinary starts `paycode serve args…` (JSON logs), waits for its
// "paycode serving" line, sends SIGTERM, and returns its exit code,
// stdout and stderr once it stopped.
func serveBinary(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	return serveBinaryWith(t, dir, nil, nil, args...)
}

// serveBinaryWith is serveBinary with env added to the process's
// environment and inspect, if set, called with its PID while it serves.
func serveBinaryWith(t *testing.T, dir string, env []string, inspect func(pid int), args ...string) (int, string, string) {
	t.Helper()
	bin := paycodeBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"serve", "-log.format", "json"}, args...)...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr lockedBuf
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(stderr.String(), `"msg":"paycode serving"`) {
		select {
		case <-done:
			t.Fatalf("serve exited before serving: %s", stderr.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("serve not serving within 30 s: %s", stderr.String())
		case <-time.After(20 * time.Millisecond): // polling the log
		}
	}
	if inspect != nil {
		inspect(cmd.Process.Pid)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("serve did not stop: %s", stderr.String())
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}
