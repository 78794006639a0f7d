package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/sign"
	"github.com/paycode/paycode/engine/sign/signtest"
	"github.com/paycode/paycode/loadtest/killtest"
)

// syncBuffer is a log sink the test reads while serve writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// jsonLine returns the first JSON log line whose msg is msg and that
// passes match, polling until deadline.
func jsonLine(t *testing.T, logs *syncBuffer, msg string, match func(map[string]any) bool, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			if m["msg"] == msg && (match == nil || match(m)) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q log line within %s; logs:\n%s", msg, within, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startServe runs serve in process until the test ends; it returns the
// lane and admin base URLs once serving, and the logs.
func startServe(t *testing.T, args ...string) (lane, admin string, logs *syncBuffer) {
	t.Helper()
	logs = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- serve(ctx, args, io.Discard, logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case rc := <-done:
			if rc != 0 {
				t.Errorf("serve exited %d; logs:\n%s", rc, logs.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30 s of its context")
		}
	})
	m := jsonLine(t, logs, "paycode serving", nil, 20*time.Second)
	lane, _ = m["lane"].(string)
	if a, ok := jsonLine(t, logs, "admin listening", nil, time.Second)["addr"].(string); ok {
		admin = "http://" + a
	}
	return lane, admin, logs
}

// testAdminToken is the admin token of the tests that reload over HTTP.
const testAdminToken = "test-admin-token-0123456789"

// adminReload is POST /admin/reload with testAdminToken.
func adminReload(admin string) (*http.Response, error) {
	req, _ := http.NewRequest("POST", admin+"/admin/reload", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	return http.DefaultClient.Do(req)
}

// TestServeJSONLogs: serve logs JSON when stderr is not a terminal, one
// info line per finished payment with a masked code.
func TestServeJSONLogs(t *testing.T) {
	lane, admin, logs := startServe(t, "-memory", "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0")
	code := fmt.Sprintf("28101102%014d00", rand.Int64N(1e14))
	reqID := fmt.Sprintf("jsonlog-%d", time.Now().UnixNano())
	if ans := lanePay(t, lane, reqID, code); !strings.Contains(ans, `"resultStatus":"S"`) {
		t.Fatalf("pay: %s", ans)
	}
	m := jsonLine(t, logs, "payment finished", func(m map[string]any) bool { return m["payment_request_id"] == reqID }, 10*time.Second)
	if m["level"] != "INFO" || m["status"] != "SUCCESS" || m["wallet"] != "mpp-281011" || m["client_id"] != "DEMO_CLIENT" || m["payment_id"] == "" {
		t.Errorf("payment line: %v", m)
	}
	c, err := codec.ParseCode([]byte(code))
	if err != nil {
		t.Fatal(err)
	}
	if m["code"] != c.String() || strings.Contains(m["code"].(string), code[6:18]) {
		t.Errorf("code logged as %q, want the masked %q", m["code"], c.String())
	}
	if strings.Contains(logs.String(), code) {
		t.Error("the whole code is in the logs")
	}
	if st, body := get(t, admin+"/readyz"); st != 200 || body != "ok\n" {
		t.Errorf("/readyz: %d %q", st, body)
	}
}

func TestNewLoggerFormat(t *testing.T) {
	var b strings.Builder
	newLogger(&b, "auto", "warn").Info("hidden")
	newLogger(&b, "auto", "warn").Warn("shown")
	if !strings.HasPrefix(b.String(), `{"time":`) || strings.Contains(b.String(), "hidden") {
		t.Errorf("auto on a buffer: %q", b.String())
	}
	b.Reset()
	newLogger(&b, "text", "debug").Debug("x", "k", "v")
	if !strings.Contains(b.String(), "level=DEBUG msg=x k=v") {
		t.Errorf("text: %q", b.String())
	}
	// Durations are human in JSON too, not nanoseconds.
	b.Reset()
	newLogger(&b, "json", "info").Info("x", "drain_timeout", 10*time.Second, slog.Duration("took", 1500*time.Microsecond))
	if !strings.Contains(b.String(), `"drain_timeout":"10s"`) || !strings.Contains(b.String(), `"took":"1.5ms"`) {
		t.Errorf("json durations: %q", b.String())
	}
}

// signedPay sends a pay signed by signer for clientID and returns the
// answer's result code ("" and the error when there was no answer).
func signedPay(hc *http.Client, lane, clientID string, signer *sign.Signer) (string, error) {
	code := fmt.Sprintf("28101102%014d00", rand.Int64N(1e14))
	reqID := fmt.Sprintf("%s-%d-%d", clientID, time.Now().UnixNano(), rand.Int64())
	body := killtest.PayBody(reqID, code, 5600, "")
	const path = "/ams/api/v1/payments/pay"
	rt := strconv.FormatInt(time.Now().UnixMilli(), 10)
	sig, err := signer.AppendHeader(nil, []byte("POST"), []byte(path), []byte(clientID), []byte(rt), []byte(body))
	if err != nil {
		return "", err
	}
	req, _ := http.NewRequest("POST", lane+path, strings.NewReader(body))
	req.Header.Set("content-type", "application/json; charset=UTF-8")
	req.Header.Set("client-id", clientID)
	req.Header.Set("request-time", rt)
	req.Header.Set("signature", string(sig))
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var a struct {
		Result struct{ ResultCode string } `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return "", err
	}
	if resp.Header.Get("signature") == "" {
		return a.Result.ResultCode, fmt.Errorf("answer not signed")
	}
	return a.Result.ResultCode, nil
}

// TestReloadClientKeys: a client added to the config file is accepted
// after SIGHUP, a bad file is refused by POST /admin/reload and the old
// keys stay, and a concurrent stream of signed pays sees no failure.
func TestReloadClientKeys(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "paycode.key")
	if err := os.WriteFile(keyFile, []byte(signtest.Paycode.PrivateBase64), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "paycode.yaml")
	write := func(clients string) {
		t.Helper()
		cfg := "sim: true\nmemory: true\nlisten: 127.0.0.1:0\nadmin: 127.0.0.1:0\nkeys:\n  privateKeyFile: " + keyFile + "\n  clients:\n" + clients
		// Write then rename, as an editor or config management does: a
		// reload never reads half a file.
		tmp := cfgFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfgFile); err != nil {
			t.Fatal(err)
		}
	}
	clientA := "    - {clientId: LANE_A, publicKey: " + signtest.Merchant.PublicBase64 + "}\n"
	clientB := "    - {clientId: LANE_B, publicKey: " + signtest.Other.PublicBase64 + "}\n"
	write(clientA)
	lane, admin, logs := startServe(t, "-config", cfgFile, "-admin-token", testAdminToken)
	hc := &http.Client{Timeout: 10 * time.Second}
	signerA, signerB := signtest.Merchant.Signer(""), signtest.Other.Signer("")

	// The stream: four lanes of client A, signed pays, until stopped.
	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rc, err := signedPay(hc, lane, "LANE_A", signerA)
				if err != nil || rc != "SUCCESS" {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("result %q, err %v", rc, err))
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 15 s; logs:\n%s", what, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("stream running", func() bool { return ok.Load() >= 10 })

	if rc, err := signedPay(hc, lane, "LANE_B", signerB); rc != "ACCESS_DENIED" {
		t.Fatalf("unknown client B before reload: %q %v", rc, err)
	}
	write(clientA + clientB)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("client B accepted after SIGHUP", func() bool {
		rc, err := signedPay(hc, lane, "LANE_B", signerB)
		return err == nil && rc == "SUCCESS"
	})
	before := ok.Load()
	waitFor("stream continues after the reload", func() bool { return ok.Load() >= before+10 })

	// A bad file: B's key is garbage. The reload fails, B keeps working.
	write(clientA + "    - {clientId: LANE_B, publicKey: not-a-key}\n")
	resp, err := adminReload(admin)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(body), "LANE_B") {
		t.Errorf("reload of a bad file: %d %s", resp.StatusCode, body)
	}
	if rc, err := signedPay(hc, lane, "LANE_B", signerB); err != nil || rc != "SUCCESS" {
		t.Errorf("client B after a failed reload: %q %v", rc, err)
	}
	jsonLine(t, logs, "client keys reload failed; the old keys stay", nil, time.Second)

	// Removing B by reload refuses it again.
	write(clientA)
	resp, err = adminReload(admin)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if rc, _ := signedPay(hc, lane, "LANE_B", signerB); resp.StatusCode != 200 || rc != "ACCESS_DENIED" {
		t.Errorf("client B after its removal: reload %d, pay %q", resp.StatusCode, rc)
	}

	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of %d signed pays of the stream failed across reloads; first: %v", failed.Load(), failed.Load()+ok.Load(), firstFailure.Load())
	}
	t.Logf("stream: %d signed pays, none failed, across 3 reloads", ok.Load())
}

// TestReloadAddsKeys: a config without keys (every client id trusted)
// reloaded with a keys section of trusted clients only: the unlisted
// client ids are refused from then on, with no restart (the admission
// limits, at their defaults either way, did not change).
func TestReloadAddsKeys(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "paycode.yaml")
	base := "sim: true\nmemory: true\nlisten: 127.0.0.1:0\nadmin: 127.0.0.1:0\n"
	if err := os.WriteFile(cfgFile, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	lane, admin, _ := startServe(t, "-config", cfgFile, "-admin-token", testAdminToken)
	pay := func(clientID string) string {
		body := killtest.PayBody(fmt.Sprintf("add-%d", time.Now().UnixNano()), fmt.Sprintf("28101102%014d00", rand.Int64N(1e14)), 100, "")
		req, _ := http.NewRequest("POST", lane+"/ams/api/v1/payments/pay", strings.NewReader(body))
		req.Header.Set("client-id", clientID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a struct {
			Result struct{ ResultCode string } `json:"result"`
		}
		json.NewDecoder(resp.Body).Decode(&a)
		return a.Result.ResultCode
	}
	if rc := pay("ANYONE"); rc != "SUCCESS" {
		t.Fatalf("before: %s", rc)
	}
	if err := os.WriteFile(cfgFile, []byte(base+"keys:\n  clients:\n    - {clientId: LANE_T, policy: none}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := adminReload(admin)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("reload: %d %s", resp.StatusCode, b)
	}
	if a, b := pay("ANYONE"), pay("LANE_T"); a != "ACCESS_DENIED" || b != "SUCCESS" {
		t.Fatalf("after the reload: unlisted %s, listed %s", a, b)
	}
}
