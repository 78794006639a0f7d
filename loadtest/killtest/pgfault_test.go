package killtest

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The database-fault tests need faults no shared server may suffer: a
// PostgreSQL of the test's own (stopped and started under load), and a
// TCP proxy in front of one that stops forwarding on command (a hung
// database).

// privatePG is a PostgreSQL cluster of one test: its own data directory
// and port on 127.0.0.1, trust authentication, removed when t ends.
type privatePG struct {
	t    *testing.T
	bin  string // the server's bin directory
	dir  string // the data directory
	port int
	log  string
	as   string // run its commands as this user ("" for ourselves)
}

// startPrivatePG initdb's and starts a cluster, or skips t when the
// PostgreSQL server programs are not installed (.ci/postgres.sh installs
// them) unless PAYCODE_REQUIRE_SERVICES is set.
func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			bins = []string{p}
		}
	}
	if len(bins) == 0 {
		if os.Getenv("PAYCODE_REQUIRE_SERVICES") != "" {
			t.Fatal("initdb not found, and PAYCODE_REQUIRE_SERVICES says this test must run (.ci/postgres.sh installs PostgreSQL)")
		}
		t.Skip("database-fault test skipped: PostgreSQL's server programs (initdb, pg_ctl) are not installed")
	}
	sort.Slice(bins, func(i, j int) bool { return versionOf(bins[i]) < versionOf(bins[j]) })
	pg := &privatePG{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	root, err := os.MkdirTemp("", "paycode-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	pg.dir, pg.log = filepath.Join(root, "data"), filepath.Join(root, "server.log")
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: its own user owns the cluster.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("database-fault test skipped: running as root and no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
		pg.as = "postgres"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if out, err := pg.run("initdb", "-D", pg.dir, "-A", "trust", "-U", "paycode", "--no-sync", "-E", "UTF8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.Start()
	t.Cleanup(func() { pg.run("pg_ctl", "-D", pg.dir, "-m", "immediate", "-w", "stop") })
	return pg
}

func versionOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func (pg *privatePG) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(pg.bin, prog), args...)
	if pg.as != "" {
		cmd = exec.Command("runuser", append([]string{"-u", pg.as, "--", filepath.Join(pg.bin, prog)}, args...)...)
	}
	cmd.Dir = filepath.Dir(pg.dir)
	return cmd.CombinedOutput()
}

// Start starts the server and waits until it accepts connections.
func (pg *privatePG) Start() {
	pg.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c max_connections=60", pg.port, filepath.Dir(pg.dir))
	if out, err := pg.run("pg_ctl", "-D", pg.dir, "-l", pg.log, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		pg.t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

// Stop stops the server as `pg_ctlcluster … stop -m fast` does: every
// session is disconnected, and connections are refused until Start.
func (pg *privatePG) Stop() {
	pg.t.Helper()
	if out, err := pg.run("pg_ctl", "-D", pg.dir, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		pg.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// DSN is the cluster's DSN (the paycode superuser, trust).
func (pg *privatePG) DSN() string {
	return fmt.Sprintf("postgres://paycode@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

// stallProxy forwards TCP connections to an upstream address until
// Stall, then holds every byte (both ways) and every new connection
// until Resume: a database that hangs without closing anything.
type stallProxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	stalled  bool
	resumed  chan struct{} // closed by Resume; replaced by Stall
	conns    map[net.Conn]bool
	closed   bool
}

func startStallProxy(t *testing.T, upstream string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, upstream: upstream, resumed: make(chan struct{}), conns: map[net.Conn]bool{}}
	close(p.resumed)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *stallProxy) Addr() string { return p.ln.Addr().String() }

// Stall stops forwarding.
func (p *stallProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stalled {
		p.stalled, p.resumed = true, make(chan struct{})
	}
}

// Resume forwards again, what was held first.
func (p *stallProxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled {
		p.stalled = false
		close(p.resumed)
	}
}

// gate blocks while the proxy is stalled.
func (p *stallProxy) gate() {
	p.mu.Lock()
	ch := p.resumed
	p.mu.Unlock()
	<-ch
}

func (p *stallProxy) Close() {
	p.Resume()
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

func (p *stallProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *stallProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			p.gate()
			up, err := net.Dial("tcp", p.upstream)
			if err != nil {
				c.Close()
				return
			}
			if !p.track(c) || !p.track(up) {
				c.Close()
				up.Close()
				return
			}
			go p.pipe(up, c)
			p.pipe(c, up)
		}()
	}
}

// pipe copies src to dst, holding each read while stalled; when src
// ends it closes both.
func (p *stallProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// readyz returns the status code of GET adminURL/readyz (0 when the
// request fails) and its body.
func readyz(adminURL string) (int, string) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(adminURL + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitReadyz polls readyz every 50 ms until it answers want, and returns
// when it first did, or an error after timeout.
func waitReadyz(adminURL string, want int, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	last, body := 0, ""
	for time.Now().Before(deadline) {
		if last, body = readyz(adminURL); last == want {
			return time.Now(), nil
		}
		time.Sleep(50 * time.Millisecond) // polling an observable condition
	}
	return time.Time{}, fmt.Errorf("/readyz answered %d (%q), not %d, for %s", last, body, want, timeout)
}

// startNode starts `paycode serve` number node on dsn with an admin
// listener, and waits until it serves.
func startNode(t *testing.T, r *rig, dsn string, node int, name string) (*Serve, string) {
	t.Helper()
	cfgPath := writeNodeConfig(t, r, dsn, node, name)
	admin := freeAddr(t)
	n, err := StartServe(r.bin, cfgPath, filepath.Join(r.dir, "data-"+name), filepath.Join(r.dir, name+".log"), "", "-admin", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Kill)
	if err := n.WaitReady(60 * time.Second); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n, "http://" + admin
}

var errNodeEnded = errors.New("node ended")

// alive reports an error when n ended.
func alive(n *Serve, name string) error {
	select {
	case <-n.Done():
		return fmt.Errorf("%s %w: %s", name, errNodeEnded, n.ExitString())
	default:
		return nil
	}
}

// writeNodeConfig writes node's config file (PostgreSQL at dsn) and
// returns its path.
func writeNodeConfig(t *testing.T, r *rig, dsn string, node int, name string) string {
	t.Helper()
	cfg := ServeConfig(r.sim.Wallets, engineTimes) + fmt.Sprintf("journal: %q\nnode: %d\nleaseTTL: %s\n", dsn, node, clusterLease)
	cfgPath := filepath.Join(r.dir, name+".yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath
}

// hostPortOf is a DSN URL's host:port.
func hostPortOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// withHost is dsn with its host:port replaced.
func withHost(t *testing.T, dsn, hostPort string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = hostPort
	return u.String()
}

// randFor is a random source for one of a test's requests.
func randFor(seed int64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(i)+1000))
}

// lastLine is s's last non-empty line.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
