package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/loadtest/killtest"
	"github.com/paycode/paycode/loadtest/stack"
)

// adminStack starts a stack over a memory journal and serves its admin handler
// on its own listener, as serve does.
func adminStack(t *testing.T) (st *stack.Stack, j *journal.Mem, admin string) {
	t.Helper()
	j = journal.NewMem()
	st, err := stack.Start(stack.Config{Node: server.Config{Journal: j}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, j, serveAdmin(t, st.Node)
}

// serveAdmin serves n's admin handler on a listener of its own until t
// ends, and returns its base URL.
func serveAdmin(t *testing.T, n *server.Node) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: n.AdminHandler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func lanePay(t *testing.T, base, reqID, code string) string {
	t.Helper()
	body := killtest.PayBody(reqID, code, 5600, "")
	req, _ := http.NewRequest("POST", base+"/ams/api/v1/payments/pay", strings.NewReader(body))
	req.Header.Set("content-type", "application/json")
	req.Header.Set("client-id", "DEMO_CLIENT")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// goldenMetrics is every paycode metric family with its label names. A
// change here is a change to dashboards and alerts: update them too.
var goldenMetrics = []string{
	"paycode_build_info{goversion,modified,revision,version}",
	"paycode_decode_duration_seconds_bucket{le}",
	"paycode_decode_duration_seconds_count{}",
	"paycode_decode_duration_seconds_sum{}",
	"paycode_decode_pool_capacity{}",
	"paycode_decode_pool_in_use{}",
	"paycode_decode_rejected_total{}",
	"paycode_decode_safety_net_total{}",
	"paycode_engine_dispatched_total{}",
	"paycode_engine_duplicates_total{}",
	"paycode_engine_followup_overdue_seconds{}",
	"paycode_engine_followups_queued{}",
	"paycode_engine_followups_total{}",
	"paycode_engine_journal_failed{}",
	"paycode_engine_journal_outages_total{}",
	"paycode_engine_notification_attempts_total{}",
	"paycode_engine_notifications_abandoned_total{}",
	"paycode_engine_notifications_pending{}",
	"paycode_engine_payments_resident{}",
	"paycode_engine_pays_total{}",
	"paycode_engine_reversals_total{}",
	"paycode_engine_wallet_errors_total{}",
	"paycode_ident_cache_hits_total{}",
	"paycode_ident_cache_misses_total{}",
	"paycode_ident_cache_negative_hits_total{}",
	"paycode_ident_refreshes_total{}",
	"paycode_ident_reloads_total{}",
	"paycode_ident_source_calls_total{}",
	"paycode_ident_source_errors_total{}",
	"paycode_ident_unroutable_total{}",
	"paycode_journal_healthy{reason}",
	"paycode_lane_request_duration_seconds_bucket{endpoint,le}",
	"paycode_lane_request_duration_seconds_count{endpoint}",
	"paycode_lane_request_duration_seconds_sum{endpoint}",
	"paycode_lane_requests_total{endpoint,result}",
	"paycode_lane_shed_total{reason}",
	"paycode_wallet_breaker_state{wallet}",
	"paycode_wallet_errors_total{kind,op,wallet}",
	"paycode_wallet_request_duration_seconds_bucket{le,op,wallet}",
	"paycode_wallet_request_duration_seconds_count{op,wallet}",
	"paycode_wallet_request_duration_seconds_sum{op,wallet}",
	"paycode_wallet_requests_in_flight{op,wallet}",
}

var sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
var labelRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)

// scrape parses the text exposition: paycode series name{label names}
// (deduplicated) and sample values by full series text.
func scrape(t *testing.T, body string) (families []string, values map[string]string) {
	seen := map[string]bool{}
	values = map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unparsable sample %q", line)
		}
		values[m[1]+"{"+m[2]+"}"] = m[3]
		if !strings.HasPrefix(m[1], "paycode_") {
			continue
		}
		var names []string
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			names = append(names, l[1])
		}
		sort.Strings(names)
		k := m[1] + "{" + strings.Join(names, ",") + "}"
		if !seen[k] {
			seen[k] = true
			families = append(families, k)
		}
	}
	sort.Strings(families)
	return families, values
}

func TestAdminMetricsGolden(t *testing.T) {
	st, _, admin := adminStack(t)
	n := time.Now().UnixNano()
	for i := 0; i < 3; i++ {
		got := lanePay(t, st.URL(), fmt.Sprintf("m-%d-%d", n, i), fmt.Sprintf("28100102%014d00", (n+int64(i))%1e14))
		if !strings.Contains(got, `"resultCode":"SUCCESS"`) {
			t.Fatalf("pay: %s", got)
		}
	}
	code, body := get(t, admin+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	fams, vals := scrape(t, body)
	if strings.Join(fams, "\n") != strings.Join(goldenMetrics, "\n") {
		t.Errorf("metric families:\n%s\nwant:\n%s", strings.Join(fams, "\n"), strings.Join(goldenMetrics, "\n"))
	}
	for series, want := range map[string]string{
		`paycode_lane_requests_total{endpoint="pay",result="SUCCESS"}`:                "3",
		`paycode_lane_request_duration_seconds_count{endpoint="pay"}`:                 "3",
		`paycode_engine_pays_total{}`:                                                 "3",
		`paycode_engine_journal_failed{}`:                                             "0",
		`paycode_lane_requests_total{endpoint="inquiryPayment",result="NONE"}`:        "0",
		`paycode_wallet_request_duration_seconds_count{op="pay",wallet="mpp-281001"}`: "3",
		`paycode_wallet_requests_in_flight{op="pay",wallet="mpp-281001"}`:             "0",
		`paycode_wallet_errors_total{kind="timeout",op="pay",wallet="mpp-281001"}`:    "0",
		`paycode_wallet_breaker_state{wallet="mpp-281001"}`:                           "0",
		`paycode_decode_pool_in_use{}`:                                                "0",
		`paycode_decode_rejected_total{}`:                                             "0",
	} {
		if got := vals[series]; got != want {
			t.Errorf("%s = %q, want %q", series, got, want)
		}
	}
	// Labels stay bounded: endpoints are the fixed set, results the table.
	for series := range vals {
		if strings.Contains(series, "DEMO_CLIENT") || strings.Contains(series, "m-") {
			t.Errorf("unbounded label in %s", series)
		}
	}
}

func TestAdminReadyzFlipsOnJournalFailure(t *testing.T) {
	st, j, admin := adminStack(t)
	for _, p := range []string{"/livez", "/readyz"} {
		if code, body := get(t, admin+p); code != 200 || body != "ok\n" {
			t.Fatalf("%s: %d %q", p, code, body)
		}
	}
	if code, _ := get(t, admin+"/healthz"); code != http.StatusNotFound {
		t.Fatalf("/healthz: %d, want 404 (/livez is the liveness probe)", code)
	}
	if code, body := get(t, admin+"/version"); code != 200 || strings.TrimSpace(body) != versionString() {
		t.Fatalf("/version: %d %q", code, body)
	}
	j.FailNext(errors.New("no space left on device"))
	n := time.Now().UnixNano()
	lanePay(t, st.URL(), fmt.Sprintf("f-%d", n), fmt.Sprintf("28100102%014d00", n%1e14))
	if !st.Engine.Failed() {
		t.Fatal("engine not failed after a journal failure")
	}
	if code, _ := get(t, admin+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz after journal failure: %d, want 503", code)
	}
	if code, _ := get(t, admin+"/livez"); code != 200 {
		t.Fatalf("/livez after journal failure: %d, want 200", code)
	}
	_, body := get(t, admin+"/metrics")
	if _, vals := scrape(t, body); vals["paycode_engine_journal_failed{}"] != "1" {
		t.Fatalf("journal_failed = %q", vals["paycode_engine_journal_failed{}"])
	}
}

func TestAdminOnlyEndpoints(t *testing.T) {
	st, _, admin := adminStack(t)
	if code, body := get(t, admin+"/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("admin /debug/pprof/: %d", code)
	}
	if code, _ := get(t, admin+"/debug/pprof/goroutine?debug=1"); code != 200 {
		t.Fatalf("admin goroutine profile: %d", code)
	}
	for _, p := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/goroutine", "/livez", "/readyz", "/version"} {
		_, body := get(t, st.URL()+p)
		if !strings.Contains(body, `"resultCode":"INVALID_API"`) {
			t.Errorf("lane %s served %q, want INVALID_API", p, body)
		}
	}
}
