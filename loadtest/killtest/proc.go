package killtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BuildBinary builds ./cmd/paycode of the module that holds dir (the
// test's own module, found with `go env GOMOD`) into outDir with the
// failpoints compiled in (-tags failpoints: the kill test arms them
// through PAYCODE_FAILPOINT), and returns the binary's path.
func BuildBinary(ctx context.Context, dir, outDir string) (string, error) {
	return buildBinary(ctx, outDir, "paycode", "failpoints")
}

// buildBinary builds ./cmd/paycode into outDir/name with the build tags
// given ("" for a default build).
func buildBinary(ctx context.Context, outDir, name, tags string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module")
	}
	bin := filepath.Join(outDir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", tags, "-o", bin, "./cmd/paycode")
	cmd.Dir = filepath.Dir(mod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/paycode: %w\n%s", err, out)
	}
	return bin, nil
}

// Wallet is one simulated wallet of the sim process.
type Wallet struct {
	Name, URL string
	// Prefix is the routing prefix of its codes (the name is mpp-PREFIX).
	Prefix string
}

var walletLine = regexp.MustCompile(`^\s*-\s*\{name:\s*([^,\s]+),\s*url:\s*"([^"]+)"`)

// ParseWalletLine reads one line of the `wallets:` block `paycode sim`
// prints; ok is false for any other line.
func ParseWalletLine(line string) (w Wallet, ok bool) {
	m := walletLine.FindStringSubmatch(line)
	if m == nil {
		return Wallet{}, false
	}
	return Wallet{Name: m[1], URL: m[2], Prefix: strings.TrimPrefix(m[1], "mpp-")}, true
}

// Sim is the running `paycode sim` process.
type Sim struct {
	Wallets []Wallet
	cmd     *exec.Cmd
	done    chan struct{}
}

// simWallets is how many wallets `paycode sim` serves (the embedded
// default's four).
const simWallets = 4

// StartSim starts `paycode sim` on free loopback ports and waits for its
// wallets block. Its stderr goes to logPath.
func StartSim(bin string, seed int64, logPath string) (*Sim, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "sim", "-host", "127.0.0.1", "-port", "0", "-ident-port", "-1", "-seed", fmt.Sprint(seed))
	cmd.Stderr = logf
	cmd.SysProcAttr = sysProcAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &Sim{cmd: cmd, done: make(chan struct{})}
	found := make(chan Wallet)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if w, ok := ParseWalletLine(sc.Text()); ok {
				found <- w
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	timeout := time.After(30 * time.Second)
	for len(s.Wallets) < simWallets {
		select {
		case w := <-found:
			s.Wallets = append(s.Wallets, w)
		case <-s.done:
			return nil, fmt.Errorf("paycode sim exited early (%v); its log: %s", cmd.ProcessState, tail(logPath, 2000))
		case <-timeout:
			s.Close()
			return nil, errors.New("paycode sim printed no wallets within 30 s")
		}
	}
	return s, nil
}

// Alive reports whether the sim process still runs.
func (s *Sim) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Pause stops the sim process (SIGSTOP): every wallet hangs, as in an
// outage, while the ledgers stay. Resume continues it.
func (s *Sim) Pause() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused sim (SIGCONT).
func (s *Sim) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

// Close stops the sim (SIGTERM, then SIGKILL after 5 s).
func (s *Sim) Close() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGCONT)
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// ServeConfig is the YAML config file the harness gives `paycode serve`.
func ServeConfig(wallets []Wallet, e EngineTimes) string {
	var b strings.Builder
	b.WriteString("wallets:\n")
	for _, w := range wallets {
		fmt.Fprintf(&b, "  - {name: %s, url: %q, timeout: %s}\n", w.Name, w.URL, e.WalletCallTimeout)
	}
	// The harness's merchant receiver is on loopback, over http.
	b.WriteString("notify: {allowHTTP: true, allow: [127.0.0.1]}\n")
	b.WriteString("engine:\n")
	fmt.Fprintf(&b, "  payTimeout: %s\n  walletCallTimeout: %s\n  followUpDeadline: %s\n", e.PayTimeout, e.WalletCallTimeout, e.FollowUpDeadline)
	fmt.Fprintf(&b, "  pollSchedule: %s\n  notifySchedule: %s\n", yamlDurations(e.PollSchedule), yamlDurations(e.NotifySchedule))
	return b.String()
}

func yamlDurations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// EngineTimes are the engine timings the kill test runs paycode with:
// short, so that payments settle within a cycle or two.
// WalletCallTimeout is also each wallet connector's timeout; it must
// exceed the simulated wallets' longest latency (4 s): their latency is a
// pure function of the operation and the payment id, so a call that times
// out once times out on every retry, and a payment whose cancel always
// times out stays PROCESSING for ever.
type EngineTimes struct {
	PayTimeout        time.Duration
	WalletCallTimeout time.Duration
	FollowUpDeadline  time.Duration
	PollSchedule      []time.Duration
	NotifySchedule    []time.Duration
}

// Serve is one run of `paycode serve`.
type Serve struct {
	URL     string // lane API base URL, once ready
	LogPath string
	Started time.Time

	cmd    *exec.Cmd
	ready  chan string
	done   chan struct{}
	mu     sync.Mutex
	killed bool // the harness sent SIGKILL
}

var laneURL = regexp.MustCompile(`(?:msg="paycode serving".*\blane=|"msg":"paycode serving".*"lane":")(http://127\.0\.0\.1:\d+)`)

// ParseServingLine returns the lane URL of the "paycode serving" log line.
func ParseServingLine(line string) (string, bool) {
	m := laneURL.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// lineWatcher is an io.Writer that passes everything to w and reports
// the lane URL of the first "paycode serving" line on ready.
type lineWatcher struct {
	w     io.Writer
	buf   []byte
	ready chan string
	seen  bool
}

func (l *lineWatcher) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if l.seen {
		return n, err
	}
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if u, ok := ParseServingLine(string(l.buf[:i])); ok {
			l.seen = true
			l.ready <- u
			l.buf = nil
			break
		}
		l.buf = l.buf[i+1:]
	}
	return n, err
}

// StartServe starts `paycode serve` with the config file and data dir;
// failpoint ("" for none) is PAYCODE_FAILPOINT; extra are more flags. It
// returns at once; use WaitReady.
func StartServe(bin, cfgPath, dataDir, logPath, failpoint string, extra ...string) (*Serve, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "-config", cfgPath, "-data", dataDir, "-listen", "127.0.0.1:0", "-admin", ""}, extra...)
	cmd := exec.Command(bin, args...)
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PAYCODE_FAILPOINT=") {
			env = append(env, kv)
		}
	}
	if failpoint != "" {
		env = append(env, "PAYCODE_FAILPOINT="+failpoint)
	}
	cmd.Env = env
	cmd.SysProcAttr = sysProcAttr()
	s := &Serve{LogPath: logPath, cmd: cmd, ready: make(chan string, 1), done: make(chan struct{})}
	cmd.Stdout = io.Discard
	cmd.Stderr = &lineWatcher{w: logf, ready: s.ready}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s.Started = time.Now()
	go func() {
		cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	return s, nil
}

// WaitReady waits for the "paycode serving" line. It fails if the process
// ends first or nothing comes within timeout.
func (s *Serve) WaitReady(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case u := <-s.ready:
		s.URL = u
		return nil
	case <-s.done:
		return fmt.Errorf("paycode serve ended before serving: %s", s.ExitString())
	case <-t.C:
		return fmt.Errorf("paycode serve not serving after %s", timeout)
	}
}

// Done is closed when the process has ended.
func (s *Serve) Done() <-chan struct{} { return s.done }

// Kill sends SIGKILL (once) and waits for the process to end.
func (s *Serve) Kill() {
	s.mu.Lock()
	select {
	case <-s.done:
	default:
		s.killed = true
		s.cmd.Process.Kill()
	}
	s.mu.Unlock()
	<-s.done
}

// KillNow sends SIGKILL (once) without waiting: for a lane goroutine
// that must kill paycode the instant it sees an answer.
func (s *Serve) KillNow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
	default:
		if !s.killed {
			s.killed = true
			s.cmd.Process.Kill()
		}
	}
}

// Exit says how the process ended. Call it after Done.
type Exit struct {
	ByHarness bool // the harness sent the SIGKILL
	SelfKill  bool // SIGKILL that the harness did not send: a failpoint
	Code      int  // exit status when not signalled (-1 otherwise)
	Signal    syscall.Signal
}

// Exit classifies the ended process.
func (s *Serve) Exit() Exit {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.cmd.ProcessState.Sys().(syscall.WaitStatus)
	e := Exit{Code: -1}
	if ws.Signaled() {
		e.Signal = ws.Signal()
		if e.Signal == syscall.SIGKILL {
			e.ByHarness = s.killed
			e.SelfKill = !s.killed
		}
	} else {
		e.Code = ws.ExitStatus()
	}
	return e
}

// ExitString describes how the process ended, with its log's tail.
func (s *Serve) ExitString() string {
	return fmt.Sprintf("%v; log tail:\n%s", s.cmd.ProcessState, tail(s.LogPath, 3000))
}

// Stop ends a healthy run with SIGTERM (SIGKILL after 10 s).
func (s *Serve) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.Kill()
	}
}

// tail returns the last n bytes of a file.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err.Error()
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	b := make([]byte, st.Size()-off)
	f.ReadAt(b, off)
	return string(b)
}
