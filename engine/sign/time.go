package sign

import (
	"errors"
	"strconv"
	"time"
)

// DefaultWindow is how far a request time may be from now, either way.
const DefaultWindow = 2 * time.Minute

// Errors of request times.
var (
	ErrTime   = errors.New("sign: request-time is neither epoch milliseconds nor ISO 8601")
	ErrStale  = errors.New("sign: request-time is too far in the past")
	ErrFuture = errors.New("sign: request-time is too far in the future")
)

// ParseTime reads a request-time header: Unix epoch milliseconds, as the Go
// and Java SDKs send (`1685599933871`), or ISO 8601 date-time, as the
// Python SDK sends: `2024-07-01T10:40:00+08:00`, with optional fractional
// seconds, an offset of `Z`, `+hh:mm` or `+hhmm`. A time without an offset
// is read as UTC (unconfirmed which zone such a client means; the window
// check then rejects it unless it is UTC).
func ParseTime(b []byte) (time.Time, error) {
	if len(b) == 0 || len(b) > 40 {
		return time.Time{}, ErrTime
	}
	if allDigits(b) {
		if len(b) > 15 {
			return time.Time{}, ErrTime
		}
		ms, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return time.Time{}, ErrTime
		}
		return time.UnixMilli(ms), nil
	}
	s := string(b)
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, ErrTime
}

var isoLayouts = [...]string{
	time.RFC3339Nano, // Z or ±hh:mm, optional fraction
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
}

// CheckTime reports whether t is within window of now (ErrStale,
// ErrFuture otherwise).
func CheckTime(t, now time.Time, window time.Duration) error {
	switch d := now.Sub(t); {
	case d > window:
		return ErrStale
	case d < -window:
		return ErrFuture
	}
	return nil
}

// AppendEpochMillis appends t as Unix epoch milliseconds, the request-time
// form of the Go and Java SDKs.
func AppendEpochMillis(dst []byte, t time.Time) []byte {
	return strconv.AppendInt(dst, t.UnixMilli(), 10)
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
