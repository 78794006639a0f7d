package httpapi

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"

	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"
)

// FastHTTPLogger routes a fasthttp.Server's (or client's) own log lines
// through log, as JSON like every other line, and without request or
// response bytes: fasthttp's messages quote what it could not parse — a
// header line, a request line — and a lane's request may carry a payment
// code there. A line keeps fasthttp's constant message (the text of its
// format before the first verb), the error's kind (errorKind), and the
// connection's addresses; the formatted arguments are never printed.
//
// The lines are rate-limited (LogLinesPerSecond, with a burst of
// LogLinesBurst): fasthttp writes one per refused connection, and a
// hostile client opening thousands of connections with oversized or
// malformed requests would otherwise write a line for each, filling the
// disk and drowning the lines that matter. The next line written after
// some were dropped carries their count ("suppressed").
func FastHTTPLogger(log *slog.Logger, server string) fasthttp.Logger {
	return &fastLogger{log: log, server: server, lim: rate.NewLimiter(LogLinesPerSecond, LogLinesBurst)}
}

// The rate of a listener's fasthttp log lines (FastHTTPLogger).
const (
	LogLinesPerSecond = 10
	LogLinesBurst     = 50
)

type fastLogger struct {
	log        *slog.Logger
	server     string
	lim        *rate.Limiter
	suppressed atomic.Int64 // lines dropped since the last one written
}

func (l *fastLogger) Printf(format string, args ...any) {
	if !l.lim.Allow() {
		l.suppressed.Add(1)
		return
	}
	msg := format
	if i := strings.IndexByte(msg, '%'); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.TrimRight(msg, " :\"'(-")
	if msg == "" {
		msg = "request"
	}
	attrs := make([]any, 0, 10)
	attrs = append(attrs, "server", l.server)
	if n := l.suppressed.Swap(0); n > 0 {
		attrs = append(attrs, "suppressed", n)
	}
	var addrs []string
	for _, a := range args {
		switch v := a.(type) {
		case net.Addr:
			addrs = append(addrs, v.String())
		case error:
			attrs = append(attrs, "kind", errorKind(v))
		}
	}
	switch len(addrs) {
	case 0:
	case 1:
		attrs = append(attrs, "remote", addrs[0])
	default:
		attrs = append(attrs, "local", addrs[0], "remote", addrs[len(addrs)-1])
	}
	l.log.Warn("http: "+msg, attrs...)
}

// errorKind names an error without its contents: a known fasthttp or
// network condition, or the error text's leading words (fasthttp's
// constant prefix, "error when reading request headers") with every
// character but letters and spaces dropped, so no quoted bytes or digits
// survive.
func errorKind(err error) string {
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return "body too large"
	case errors.As(err, &small):
		return "request line or headers too large"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	s := err.Error()
	if i := strings.IndexAny(s, ":\"'"); i >= 0 {
		s = s[:i]
	}
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == ' ' {
			b.WriteRune(r)
		}
		if b.Len() >= 64 {
			break
		}
	}
	if k := strings.TrimSpace(b.String()); k != "" {
		return k
	}
	return "malformed request"
}
