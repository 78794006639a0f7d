package pgtest

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// CutProxy forwards TCP to a backend (the test database) until Cut: then
// it closes every connection and refuses new ones, as a database that
// went away (restart, failover, a cut network path), until Restore.
type CutProxy struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]bool
}

// NewCutProxy listens on loopback and forwards to backend (host:port)
// until tb ends.
func NewCutProxy(tb testing.TB, backend string) *CutProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &CutProxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	tb.Cleanup(func() { ln.Close(); p.Cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

// Addr is the proxy's host:port, to put in a DSN instead of the backend's.
func (p *CutProxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every connection and refuses new ones.
func (p *CutProxy) Cut() { p.set(true) }

// Restore forwards new connections again.
func (p *CutProxy) Restore() { p.set(false) }

func (p *CutProxy) set(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
	}
}

func (p *CutProxy) serve(c net.Conn) {
	b, err := net.DialTimeout("tcp", p.backend, 5*time.Second)
	p.mu.Lock()
	if p.down || err != nil {
		p.mu.Unlock()
		c.Close()
		if b != nil {
			b.Close()
		}
		return
	}
	p.conns[c], p.conns[b] = true, true
	p.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { io.Copy(b, c); cancel() }()
	go func() { io.Copy(c, b); cancel() }()
	<-ctx.Done()
	c.Close()
	b.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, b)
	p.mu.Unlock()
}
