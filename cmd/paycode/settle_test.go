package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/engine/settle"
	"github.com/paycode/paycode/loadtest/killtest"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/paycode/paycode/loadtest/stack"
)

// settleBase is the business clock's start: the e2e day is 2026-03-14 in
// UTC whenever the test runs (no midnight to cross).
var settleBase = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

const settleDate = "2026-03-14"

// offsetClock is the real clock moved to settleBase: timers and durations
// are real, dates are the chosen day's.
type offsetClock struct{ start time.Time }

func (c offsetClock) Now() time.Time { return settleBase.Add(time.Since(c.start)) }

func (c offsetClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// laneAnswer is the part of a lane answer the test reads.
type laneAnswer struct {
	Result struct {
		ResultCode   string `json:"resultCode"`
		ResultStatus string `json:"resultStatus"`
		Message      string `json:"resultMessage"`
	} `json:"result"`
	PaymentID     string `json:"paymentId"`
	PaymentStatus string `json:"paymentStatus"`
	RefundID      string `json:"refundId"`
}

func lanePost(t *testing.T, base, op, body string) laneAnswer {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/ams/api/v1/payments/"+op, strings.NewReader(body))
	req.Header.Set("content-type", "application/json")
	req.Header.Set("client-id", "LANE-SETTLE")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a laneAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return a
}

// settleRun is a day of business on a whole paycode (loadtest/stack, a
// Pebble journal, the simulated wallets): it returns the journal
// directory, the stopped stack (ledgers still readable), and the ids of
// the transactions that must appear in both files.
type settleRun struct {
	dir  string
	st   *stack.Stack
	pids map[string]string // lane request id → paymentId
	rids map[string]string // refund request id → refundId
}

func runSettleDay(t *testing.T) *settleRun {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	clk := offsetClock{start: time.Now()}
	wallets := stack.DefaultSimWallets()
	for i := range wallets {
		wallets[i].Latency = mppsim.Latency{}
		wallets[i].PasswordDelay = 300 * time.Millisecond
		wallets[i].HangFor = 200 * time.Millisecond
	}
	wallets[1].PasswordDelay = time.Hour // mpp-281003: the user never confirms before the cancel
	st, err := stack.Start(stack.Config{
		Node: server.Config{Journal: j, CodeKey: j.CodeKey(), NoDecoder: true, Logger: slog.New(slog.DiscardHandler),
			Engine: engine.Config{Clock: clk, PayTimeout: 2 * time.Second,
				PollSchedule: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}}},
		Sim: mppsim.Config{Wallets: wallets, Now: clk.Now},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &settleRun{dir: dir, st: st, pids: map[string]string{}, rids: map[string]string{}}
	base := st.URL()
	n := time.Now().UnixNano() % 1e9
	code := func(prefix string, i, last int) string {
		return fmt.Sprintf("%s%016d%02d", prefix, n*100+int64(i), last)
	}
	type payCase struct {
		req, code string
		amount    int64
	}
	pays := []payCase{
		{"ok-1", code("281001", 1, 0), 1000}, {"ok-3", code("281003", 2, 1), 2000},
		{"ok-10", code("281010", 3, 2), 3000}, {"ok-11", code("281011", 4, 3), 4000},
		{"fail-balance", code("281001", 5, 87), 500}, {"fail-risk", code("281010", 6, 98), 600},
		{"password-ok", code("281001", 7, 80), 700}, {"password-fail", code("281011", 8, 85), 800},
		{"lost-answer", code("281010", 9, 92), 900}, {"system-error", code("281011", 10, 94), 1100},
		{"cancel-before", code("281003", 11, 81), 1200}, {"cancel-after", code("281001", 12, 4), 1300},
		{"refund-partial", code("281010", 13, 5), 5000}, {"refund-full", code("281011", 14, 6), 3000},
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range pays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := lanePost(t, base, "pay", killtest.PayBody(p.req, p.code, p.amount, ""))
			mu.Lock()
			r.pids[p.req] = a.PaymentID
			mu.Unlock()
		}()
	}
	wg.Wait()
	if a := lanePost(t, base, "cancel", `{"paymentRequestId":"cancel-before"}`); a.Result.ResultCode != "SUCCESS" {
		t.Fatalf("cancel before success: %+v", a)
	}
	if a := lanePost(t, base, "cancel", `{"paymentRequestId":"cancel-after"}`); a.Result.ResultCode != "SUCCESS" {
		t.Fatalf("cancel after success: %+v", a)
	}
	refund := func(rid, req string, v int64, want string) {
		a := lanePost(t, base, "refund", fmt.Sprintf(`{"refundRequestId":%q,"paymentId":%q,"refundAmount":{"currency":"HKD","value":"%d"}}`, rid, r.pids[req], v))
		if a.Result.ResultCode != want {
			t.Fatalf("refund %s: %+v, want %s", rid, a, want)
		}
		if want == "SUCCESS" {
			r.rids[rid] = a.RefundID
		}
	}
	refund("rf-part-1", "refund-partial", 1000, "SUCCESS")
	refund("rf-part-2", "refund-partial", 1500, "SUCCESS")
	refund("rf-too-much", "refund-partial", 9999, "REFUND_AMOUNT_EXCEED")
	refund("rf-full", "refund-full", 3000, "SUCCESS")

	// Every payment reaches its final state (the follow-up settles the
	// password, lost-answer and system-error ones).
	want := map[string]string{"ok-1": "SUCCESS", "ok-3": "SUCCESS", "ok-10": "SUCCESS", "ok-11": "SUCCESS",
		"fail-balance": "FAIL", "fail-risk": "FAIL", "password-ok": "SUCCESS", "password-fail": "FAIL",
		"lost-answer": "SUCCESS", "system-error": "FAIL", "cancel-before": "CANCELLED", "cancel-after": "CANCELLED",
		"refund-partial": "SUCCESS", "refund-full": "SUCCESS"}
	deadline := time.Now().Add(30 * time.Second)
	for req, status := range want {
		for {
			a := lanePost(t, base, "inquiryPayment", fmt.Sprintf(`{"paymentRequestId":%q}`, req))
			if a.PaymentStatus == status {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s, want %s", req, a.PaymentStatus, status)
			}
			time.Sleep(20 * time.Millisecond) // polling a condition, with a deadline
		}
	}
	if e := st.Sim.Ledger("mpp-281003").Payments[r.pids["cancel-before"]]; e.State != mppsim.StateClosed {
		t.Fatalf("cancel before success: the wallet's entry is %v, want CLOSED", e.State)
	}
	if err := st.Close(); err != nil { // closes the journal: settle may open it
		t.Fatal(err)
	}
	return r
}

// TestSettleReconcileE2E: paycode's file from its journal and the
// wallets' file from their ledgers agree after a day of successes,
// failures, cancels before and after success, partial and full refunds;
// every mismatch injected into copies is found exactly once, and nothing
// else.
func TestSettleReconcileE2E(t *testing.T) {
	r := runSettleDay(t)
	out := t.TempDir()
	ours, theirs := filepath.Join(out, "ours.csv"), filepath.Join(out, "theirs.csv")
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"settle", "-data", r.dir, "-date", settleDate, "-o", ours}, &stdout, &stderr); rc != 0 {
		t.Fatalf("settle: exit %d: %s", rc, stderr.String())
	}
	var tb bytes.Buffer
	day, _ := settle.ParseDay(settleDate, nil)
	if err := r.st.Sim.Settlement(&tb, day); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(theirs, tb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	oursRows, err := readSettlement(ours)
	if err != nil {
		t.Fatal(err)
	}
	theirRows, err := readSettlement(theirs)
	if err != nil {
		t.Fatal(err)
	}
	// What must be listed: 8 charges (4 plain, the password, the lost
	// answer, the two refunded), the charge and reversal of cancel-after,
	// and 3 refunds. Nothing of the failures or of cancel-before.
	wantIDs := []string{}
	for _, req := range []string{"ok-1", "ok-3", "ok-10", "ok-11", "password-ok", "lost-answer", "cancel-after", "cancel-after", "refund-partial", "refund-full"} {
		wantIDs = append(wantIDs, r.pids[req])
	}
	for _, rid := range []string{"rf-part-1", "rf-part-2", "rf-full"} {
		wantIDs = append(wantIDs, r.rids[rid])
	}
	slices.Sort(wantIDs)
	for name, rows := range map[string][]settle.Row{"ours": oursRows, "theirs": theirRows} {
		var ids []string
		for _, row := range rows {
			ids = append(ids, row.TransactionID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("%s lists %v, want %v", name, ids, wantIDs)
		}
	}
	if ms := settle.Reconcile(oursRows, theirRows); len(ms) != 0 {
		t.Fatalf("clean day: %d mismatches:\n%v", len(ms), ms)
	}
	stdout.Reset()
	if rc := run([]string{"reconcile", ours, theirs}, &stdout, &stderr); rc != 0 {
		t.Fatalf("reconcile clean: exit %d\n%s%s", rc, stdout.String(), stderr.String())
	}
	if want := "ours 13 rows, theirs 13 rows, matched 13, mismatches 0\n"; stdout.String() != want {
		t.Errorf("reconcile clean: %q, want %q", stdout.String(), want)
	}

	// Inject, into copies, one mismatch of each kind.
	oursB, _ := os.ReadFile(ours)
	theirsB := tb.Bytes()
	okPay := func(req string) string { return r.pids[req] }
	oursMod := editFile(t, oursB, []edit{
		{id: r.rids["rf-part-2"], typ: "REFUND", del: true},              // MISSING_OURS
		{id: okPay("cancel-after"), typ: "CANCEL", col: 5, to: "REFUND"}, // TYPE_DIFFERS
	})
	theirsMod := editFile(t, theirsB, []edit{
		{id: okPay("ok-1"), typ: "PAYMENT", del: true},                                                         // MISSING_THEIRS
		{id: okPay("ok-3"), typ: "PAYMENT", col: 8, to: "2001"},                                                // AMOUNT_DIFFERS
		{id: okPay("ok-10"), typ: "PAYMENT", col: 9, to: "USD"},                                                // CURRENCY_DIFFERS
		{id: okPay("ok-11"), typ: "PAYMENT", col: 6, to: "PROCESSING"},                                         // STATUS_DIFFERS
		{add: ",w-ghost,ghost-1,,,PAYMENT,SUCCESS,2026-03-14T11:00:00Z,4200,HKD,,mpp-281001,IN_STORE_PAYMENT"}, // MISSING_OURS
	})
	oursRows, err = settle.Parse(bytes.NewReader(oursMod))
	if err != nil {
		t.Fatal(err)
	}
	theirRows, err = settle.Parse(bytes.NewReader(theirsMod))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range settle.Reconcile(oursRows, theirRows) {
		got = append(got, m.Kind.String()+" "+m.TransactionID)
	}
	want := []string{
		"MISSING_OURS " + r.rids["rf-part-2"], "TYPE_DIFFERS " + okPay("cancel-after"),
		"MISSING_THEIRS " + okPay("ok-1"), "AMOUNT_DIFFERS " + okPay("ok-3"), "CURRENCY_DIFFERS " + okPay("ok-10"),
		"STATUS_DIFFERS " + okPay("ok-11"), "MISSING_OURS ghost-1",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("injected mismatches:\n got %q\nwant %q", got, want)
	}
	// The command prints the same, one per line, then the summary; exit 1.
	if err := os.WriteFile(ours, oursMod, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(theirs, theirsMod, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if rc := run([]string{"reconcile", ours, theirs}, &stdout, &stderr); rc != 1 {
		t.Fatalf("reconcile with mismatches: exit %d\n%s", rc, stdout.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != len(want)+1 || !strings.HasPrefix(lines[len(lines)-1], "ours 12 rows, theirs 13 rows, matched 7, mismatches 7 (") {
		t.Errorf("reconcile output:\n%s", stdout.String())
	}
	for _, l := range lines[:len(lines)-1] {
		f := strings.Fields(l)
		if len(f) < 2 || !slices.Contains(want, f[0]+" "+strings.TrimPrefix(f[1], "transactionId=")) {
			t.Errorf("unexpected line %q", l)
		}
	}
}

// edit changes a file's text: delete or change one field of the row with
// the given transactionId and type, or add a row before <END>.
type edit struct {
	id, typ string
	del     bool
	col     int
	to      string
	add     string
}

func editFile(t *testing.T, file []byte, edits []edit) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(file), "\n"), "\n")
	for _, e := range edits {
		if e.add != "" {
			lines = slices.Insert(lines, len(lines)-1, e.add)
			continue
		}
		found := false
		for i, l := range lines {
			f := strings.Split(l, ",")
			if len(f) < 13 || f[2] != e.id || f[5] != e.typ {
				continue
			}
			found = true
			if e.del {
				lines = slices.Delete(lines, i, i+1)
			} else {
				f[e.col] = e.to
				lines[i] = strings.Join(f, ",")
			}
			break
		}
		if !found {
			t.Fatalf("no %s row for %s", e.typ, e.id)
		}
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// TestSettleCommandErrors: settle's and reconcile's exit codes on bad
// flags and unreadable input.
func TestSettleCommandErrors(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "good.csv")
	if err := os.WriteFile(good, []byte(strings.Join(settle.Columns, ",")+"\n<END>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.csv")
	if err := os.WriteFile(cut, []byte(strings.Join(settle.Columns, ",")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args   []string
		rc     int
		stderr string
	}{
		{[]string{"settle"}, 2, "-date YYYY-MM-DD is required"},
		{[]string{"settle", "-date", "14/03/2026"}, 2, "YYYY-MM-DD"},
		{[]string{"settle", "-date", settleDate, "-tz", "Mars/Olympus"}, 2, "time zone"},
		{[]string{"settle", "-date", settleDate, "-journal", "mysql://x"}, 2, "postgres://"},
		{[]string{"settle", "-date", settleDate, "extra"}, 2, "unexpected argument"},
		{[]string{"settle", "-date", settleDate, "-data", filepath.Join(dir, "nope")}, 1, "no journal directory"},
		{[]string{"settle", "-date", settleDate, "-data", dir}, 1, "stop it first"}, // j holds Pebble's lock
		{[]string{"reconcile", good}, 2, "want two files, OURS THEIRS"},
		{[]string{"reconcile", good, filepath.Join(dir, "missing.csv")}, 2, "missing.csv"},
		{[]string{"reconcile", good, cut}, 2, "cut.csv: line 2: settle: no <END> line"},
		{[]string{"reconcile", good, good}, 0, ""},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		rc := run(c.args, &stdout, &stderr)
		if rc != c.rc || !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, rc, stderr.String(), c.rc, c.stderr)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// Once serve (here: j) has stopped, settle reads the journal; an
	// empty day is a header and <END>, on stdout without -o.
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"settle", "-data", dir, "-date", settleDate, "-tz", "+08:00"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr.String())
	}
	if want := strings.Join(settle.Columns, ",") + "\n<END>\n"; stdout.String() != want {
		t.Errorf("stdout %q", stdout.String())
	}
}

// TestSimSettlementCommand: `paycode sim settlement` fetches the file a
// sim serves next to its identification service (settlementOr).
func TestSimSettlementCommand(t *testing.T) {
	w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "mpp-281001"}, mppsim.Config{Now: offsetClock{start: time.Now()}.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	other := func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("identification") }
	srv := &fasthttp.Server{Handler: settlementOr(other, w)}
	go srv.Serve(ln)
	defer srv.Shutdown()
	base := "http://" + ln.Addr().String()
	out := filepath.Join(t.TempDir(), "theirs.csv")
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"sim", "settlement", "-from", base, "-date", settleDate, "-o", out}, &stdout, &stderr); rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr.String())
	}
	b, _ := os.ReadFile(out)
	if want := strings.Join(settle.Columns, ",") + "\n<END>\n"; string(b) != want {
		t.Errorf("%q", b)
	}
	if _, body := get(t, base+"/ident"); body != "identification" {
		t.Errorf("other paths: %q", body)
	}
	if rc := run([]string{"sim", "settlement", "-from", base, "-date", "2026-3-14"}, &stdout, &stderr); rc != 2 {
		t.Errorf("bad date: exit %d", rc)
	}
	if rc := run([]string{"sim", "settlement", "-from", "http://127.0.0.1:1", "-date", settleDate, "-timeout", "1s"}, &stdout, &stderr); rc != 1 {
		t.Errorf("unreachable: exit %d", rc)
	}
}
