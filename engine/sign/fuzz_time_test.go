package sign_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/paycode/paycode/engine/sign"
)

// FuzzParseTime: a request-time header of any bytes never panics, and
// what ParseTime accepts is what it says: epoch milliseconds are that
// instant, ISO 8601 reads back from its own RFC 3339 text to the same
// instant; the window check of any accepted time never panics and agrees
// with the distance to now.
//
//	go test -run '^$' -fuzz '^FuzzParseTime$' -fuzztime 3m -parallel 1 ./engine/sign/
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"1685599933871", "2024-07-01T10:40:00+08:00", "2024-07-01T10:40:00.123456789Z",
		"2024-07-01T10:40:00+0800", "2024-07-01T10:40:00", "999999999999999", "-1", "0",
		"9999-12-31T23:59:59.999999999-23:59", "0000-01-01T00:00:00Z", "2024-02-30T00:00:00Z", "",
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := sign.ParseTime(b)
		if err != nil {
			if !tm.IsZero() {
				t.Fatalf("an error with a time: %v", tm)
			}
			return
		}
		if ms, err := strconv.ParseInt(string(b), 10, 64); err == nil && b[0] != '+' && b[0] != '-' {
			if tm.UnixMilli() != ms {
				t.Fatalf("%q read as %d ms", b, tm.UnixMilli())
			}
		} else {
			back, err := time.Parse(time.RFC3339Nano, tm.Format(time.RFC3339Nano))
			if err != nil || !back.Equal(tm) {
				t.Fatalf("%q read as %v, which reads back as %v (%v)", b, tm, back, err)
			}
		}
		err = sign.CheckTime(tm, now, sign.DefaultWindow)
		d := now.Sub(tm)
		if inside := d <= sign.DefaultWindow && d >= -sign.DefaultWindow; inside != (err == nil) {
			t.Fatalf("%q (%v from now): window check %v", b, d, err)
		}
	})
}
