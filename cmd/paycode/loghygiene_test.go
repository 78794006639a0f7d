package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paycode/paycode/loadtest/killtest"
)

// TestLogsCarryNoRequestBytes: the real binary's every log
// line — fasthttp's own included — is JSON and holds no run of 16 to 32
// digits after malformed requests that carry a payment code in a header
// line without a colon, in the request line, in an invalid header
// value, in an oversized header block and in bodies, sent to the lane
// and the admin listeners.
func TestLogsCarryNoRequestBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := killtest.BuildBinary(ctx, ".", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "serve", "-memory", "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-log.format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard // the banner's example pay is not a log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	addrs := make(chan [2]string, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		var lane, admin string
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			mu.Lock()
			lines = append(lines, l)
			mu.Unlock()
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil {
				switch m["msg"] {
				case "admin listening":
					admin, _ = m["addr"].(string)
				case "paycode serving":
					lane, _ = m["lane"].(string)
					addrs <- [2]string{strings.TrimPrefix(lane, "http://"), admin}
				}
			}
		}
	}()
	var lane, admin string
	select {
	case a := <-addrs:
		lane, admin = a[0], a[1]
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("paycode serve did not start")
	}

	const code = "281001020123456789014500"
	body := fmt.Sprintf(`{"productCode":"IN_STORE_PAYMENT","paymentMethod":{"paymentMethodId":"%s"`, code) // truncated JSON
	requests := []string{
		"POST /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\nX-Code " + code + "\r\nContent-Length: 2\r\n\r\n{}",
		code + " /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /ams/api/v1/payments/pay?c=" + code + " HTTP/9.9\r\nHost: x\r\n\r\n",
		"POST /" + code + " HTTP/1.1 extra\r\nHost: x\r\n\r\n",
		"POST /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\nclient-id: \x01" + code + "\r\nContent-Length: 2\r\n\r\n{}",
		"POST /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat(code, 400) + "\r\n\r\n",
		fmt.Sprintf("POST /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\nclient-id: C1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body),
		fmt.Sprintf("POST /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\nclient-id: C1\r\nContent-Length: %d\r\n\r\n%s", len(body)+50, body), // short body
		"POST /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\nContent-Length: " + code + "\r\n\r\n",
		"POST /ams/api/v1/payments/pay HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + code + "\r\nxx\r\n",
	}
	send := func(addr, raw string) {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, raw)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		io.Copy(io.Discard, c)
		c.Close()
	}
	for _, raw := range requests {
		send(lane, raw)
		send(admin, strings.Replace(raw, "/ams/api/v1/payments/pay", "/admin/reload", 1))
	}
	// Shut down: every line is written by then.
	cmd.Process.Signal(syscall.SIGTERM)
	<-readDone
	cmd.Wait()

	mu.Lock()
	defer mu.Unlock()
	digits := regexp.MustCompile(`\d{16,32}`)
	httpLines := 0
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if strings.HasPrefix(l, "SCHED ") {
			// The Go runtime's scheduler line (counters only), which the
			// sysmon setting prints at start on a host up more than 24.8
			// days (cmd/paycode/sysmon.go).
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("not a JSON line: %q", l)
			continue
		}
		if d := digits.FindString(l); d != "" {
			t.Errorf("a %d-digit run in a log line: %s", len(d), strings.ReplaceAll(l, d, "<"+fmt.Sprint(len(d))+" digits>"))
		}
		if s, _ := m["msg"].(string); strings.HasPrefix(s, "http: ") {
			httpLines++
		}
	}
	if httpLines == 0 {
		t.Errorf("no fasthttp line was logged (the malformed requests went unnoticed?):\n%s", strings.Join(lines, "\n"))
	}
	t.Logf("%d log lines, %d of them fasthttp's", len(lines), httpLines)
}
