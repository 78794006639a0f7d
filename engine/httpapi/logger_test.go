package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"

	"golang.org/x/time/rate"
)

// TestFastHTTPLoggerRateLimited: a flood of fasthttp's per-connection
// lines (a hostile client's refused connections) writes at most the
// burst, and the next line written says how many were dropped; no line
// carries the formatted arguments.
func TestFastHTTPLoggerRateLimited(t *testing.T) {
	var buf bytes.Buffer
	l := FastHTTPLogger(slog.New(slog.NewJSONHandler(&buf, nil)), "lane").(*fastLogger)
	remote := &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 4242}
	const flood = 5000
	for range flood {
		l.Printf("error when serving connection %q<->%q: %v", "281001020123456789014567", remote, errors.New("body size exceeds the given limit"))
	}
	written := strings.Count(buf.String(), "\n")
	// The limiter refills at LogLinesPerSecond while the loop runs: a
	// loop of a few milliseconds adds at most a line or two.
	if written < LogLinesBurst || written > LogLinesBurst+LogLinesPerSecond {
		t.Fatalf("%d lines written for %d, want the burst (%d) and little more", written, flood, LogLinesBurst)
	}
	l.lim.SetLimit(rate.Inf)
	buf.Reset()
	l.Printf("error when serving connection %q<->%q: %v", "x", remote, errors.New("timeout"))
	var line struct {
		Msg        string `json:"msg"`
		Suppressed int    `json:"suppressed"`
		Remote     string `json:"remote"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if line.Suppressed != flood-written {
		t.Errorf("suppressed = %d, want %d (%s)", line.Suppressed, flood-written, buf.String())
	}
	if line.Remote != remote.String() || strings.Contains(buf.String(), "2810010201") {
		t.Errorf("line: %s", buf.String())
	}
	buf.Reset()
	l.Printf("error when serving connection %v: %v", remote, errors.New("timeout"))
	if strings.Contains(buf.String(), "suppressed") {
		t.Errorf("the count was carried twice: %s", buf.String())
	}
}
