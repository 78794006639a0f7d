package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/journal/postgres/pgtest"
	"github.com/paycode/paycode/loadtest/killtest"
)

// secretToken is the admin token of TestSecretsStayHidden.
const secretToken = "Adm1n-T0ken-never-shown-4242"

// TestDSNPasswordNeverPrinted: serve, config print and settle, given a
// journal DSN whose password is spelt any way pgx accepts (user-info, a
// query parameter, keyword/value) and that fails (unreachable, does not
// parse, not a URL), say what failed without the password or the admin
// token.
func TestDSNPasswordNeverPrinted(t *testing.T) {
	const pw = "Sup3r-Secret_pw"
	dsns := []string{
		"postgres://paycode:" + pw + "@127.0.0.1:1/paycode?sslmode=disable",
		"postgres://paycode@127.0.0.1:1/paycode?sslmode=disable&password=" + pw,
		"postgres://paycode:" + pw + "@127.0.0.1:bad/paycode",
		"postgres://paycode:" + pw + "%ZZ@127.0.0.1:1/paycode",
		"host=127.0.0.1 port=1 user=paycode password=" + pw + " dbname=paycode",
	}
	for _, dsn := range dsns {
		for _, args := range [][]string{
			{"serve", "-journal", dsn, "-admin-token", secretToken, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0",
				"-wallets", `[{name: mpp-281001, url: "http://127.0.0.1:1"}]`},
			{"config", "print", "-journal", dsn, "-admin-token", secretToken},
			{"settle", "-journal", dsn, "-date", "2026-12-01"},
		} {
			var out bytes.Buffer
			rc := run(args, &out, &out)
			t.Logf("paycode %s %s: exit %d: %s", args[0], args[1], rc, strings.TrimSpace(out.String()))
			if strings.Contains(out.String(), pw) || strings.Contains(out.String(), secretToken) {
				t.Errorf("paycode %s with %s printed a secret:\n%s", args[0], redactForLog(dsn), out.String())
			}
		}
	}
}

// TestWalletURLSecretNeverPrinted: a wallet URL carrying a credential
// (user-info, a query key, a fragment) is refused by serve and config
// check, naming wallets[0].url, and neither prints the credential: not
// in the refusal, nor later in the wallet client's own error.
func TestWalletURLSecretNeverPrinted(t *testing.T) {
	const pw = "Sup3r-Secret_pw"
	dir := t.TempDir()
	for i, u := range []string{
		"https://paycode:" + pw + "@wallet.example",
		"https://wallet.example/aps?key=" + pw,
		"https://wallet.example/aps#" + pw,
		"ftp://paycode:" + pw + "@wallet.example",
		"ftp://" + pw + "@wallet.example",
		"htps://wallet.example/aps?key=" + pw,
		"https:paycode:" + pw + "@wallet.example",
	} {
		file := filepath.Join(dir, fmt.Sprintf("w%d.yaml", i))
		if err := os.WriteFile(file, []byte("wallets:\n  - {name: w, url: \""+u+"\"}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"serve", "-memory", "-listen", "127.0.0.1:0", "-admin", "", "-wallets", `[{name: w, url: "` + u + `"}]`},
			{"config", "check", file},
		} {
			var out bytes.Buffer
			rc := run(args, &out, &out)
			if strings.Contains(out.String(), pw) {
				t.Errorf("paycode %s with wallet URL %s printed it:\n%s", args[0], redactForLog(u), redactForLog(out.String()))
			}
			if rc == 0 || !strings.Contains(out.String(), "wallets[0].url") {
				t.Errorf("paycode %s with wallet URL %s: exit %d, want a refusal naming wallets[0].url:\n%s", args[0], redactForLog(u), rc, redactForLog(out.String()))
			}
		}
	}
}

// redactForLog keeps the test's own messages free of the password too.
func redactForLog(s string) string { return strings.ReplaceAll(s, "Sup3r-Secret_pw", "PW") }

// TestSecretsStayHidden: a node on PostgreSQL whose database goes away
// mid-service. Pays are answered (U while the database is gone, never
// lost: the ones answered before are found after), and the DSN's
// password and the admin token appear in no log line, no lane answer,
// and none of /readyz, /status, /status.json, /metrics, /admin/stats,
// /admin/wallets.
func TestSecretsStayHidden(t *testing.T) {
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	user := u.User.Username()
	px := pgtest.NewCutProxy(t, u.Host)
	u.Host = px.Addr()
	// The password as it could leak: in the URL, or as a setting.
	secrets := []string{user + ":" + pw + "@", "password=" + pw, secretToken}
	wallet := okWallet(t)
	lane, admin, logs := startServe(t, "-journal", u.String(), "-node", "57", "-admin-token", secretToken,
		"-log.level", "debug", "-engine.pay-timeout", "2s",
		"-wallets", `[{name: mpp-281001, url: "`+wallet+`"}]`)

	var answers []string
	pay := func(reqID string) string {
		t.Helper()
		body := killtest.PayBody(reqID, secretCode(reqID), 100, "")
		req, _ := http.NewRequest("POST", lane+"/ams/api/v1/payments/pay", strings.NewReader(body))
		req.Header.Set("client-id", "LANE-1")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answers = append(answers, string(b))
		var a struct {
			Result struct{ ResultCode, ResultStatus string }
		}
		json.Unmarshal(b, &a)
		return a.Result.ResultStatus + " " + a.Result.ResultCode
	}
	if got := pay("s-before"); got != "S SUCCESS" {
		t.Fatalf("pay with the database up: %s", got)
	}
	px.Cut()
	if got := pay("s-during"); got != "U REQUEST_TRAFFIC_EXCEED_LIMIT" && got != "U UNKNOWN_EXCEPTION" {
		t.Fatalf("pay with the database gone: %s, want U", got)
	}
	readyz := waitStatus(t, admin+"/readyz", 503)
	pages := map[string]string{"/readyz": readyz}
	for _, p := range []string{"/status", "/status.json", "/metrics", "/admin/stats", "/admin/wallets"} {
		_, pages[p] = get(t, admin+p)
	}
	px.Restore()
	waitStatus(t, admin+"/readyz", 200)
	// A lane retries a U: the first reads after the outage may meet a
	// pooled connection the outage cut (UNKNOWN_EXCEPTION, retry).
	deadline := time.Now().Add(20 * time.Second)
	retries := 0
	for got := pay("s-before"); got != "S SUCCESS"; got = pay("s-before") {
		if !strings.HasPrefix(got, "U ") || time.Now().After(deadline) {
			t.Fatalf("the pay answered before the outage, replayed after it: %s", got)
		}
		retries++
		time.Sleep(50 * time.Millisecond) // a lane's retry interval
	}
	t.Logf("the replay after the outage: SUCCESS after %d U answers", retries)
	if !strings.Contains(readyz, "journal unavailable") {
		t.Errorf("/readyz during the outage: %q", readyz)
	}
	check := func(where, text string) {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows a secret (%d bytes into it)", where, strings.Index(text, s))
			}
		}
	}
	for p, body := range pages {
		check(p, body)
	}
	for i, a := range answers {
		check("lane answer "+string(rune('0'+i)), a)
	}
	check("the logs", logs.String())
	t.Logf("/readyz during the outage: %q; %d log lines, %d lane answers, %d admin pages checked",
		strings.TrimSpace(readyz), strings.Count(logs.String(), "\n"), len(answers), len(pages))
	if !strings.Contains(logs.String(), "journal") {
		t.Errorf("no journal line in the logs: the outage was not logged")
	}
}

// secretCode is a 24-digit test code of wallet 281001 that the test
// wallet approves, unique per request id.
func secretCode(reqID string) string {
	n := 0
	for _, c := range reqID {
		n = n*31 + int(c)
	}
	s := "28100102" + strings.Repeat("0", 14)
	d := []byte(s)
	for i := len(d) - 1; i >= 8 && n > 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return string(d) + "01"
}

// okWallet serves a wallet that answers every pay and inquiry SUCCESS.
func okWallet(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		var req struct {
			PaymentRequestID string `json:"paymentRequestId"`
			PaymentAmount    struct {
				Currency, Value string
			} `json:"paymentAmount"`
		}
		json.Unmarshal(ctx.PostBody(), &req)
		ctx.SetContentType("application/json")
		b, _ := json.Marshal(map[string]any{
			"result":           map[string]string{"resultStatus": "S", "resultCode": "SUCCESS", "resultMessage": "ok"},
			"paymentRequestId": req.PaymentRequestID, "paymentId": "w-" + req.PaymentRequestID,
			"paymentTime": "2026-12-06T10:00:00Z", "paymentStatus": "SUCCESS",
			"paymentAmount": map[string]string{"currency": req.PaymentAmount.Currency, "value": req.PaymentAmount.Value},
		})
		ctx.SetBody(b)
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

// waitStatus polls url until it answers code (bounded), returning the body.
func waitStatus(t *testing.T, url string, code int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, body := get(t, url)
		if c == code {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d %q, want %d within 20 s", url, c, body, code)
		}
		time.Sleep(50 * time.Millisecond) // polling an observable condition
	}
}
