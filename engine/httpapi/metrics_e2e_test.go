package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paycode/paycode/engine/metrics"
)

// TestLaneMetricsCountWhatWasAnswered: over real HTTP, every request is
// counted once under the endpoint it was served as and the resultCode in
// the body it got, for answers of every kind (an engine answer, a parse
// error, a refused method, an unknown path, an escaped path that is served
// as a pay).
func TestLaneMetricsCountWhatWasAnswered(t *testing.T) {
	e := newE2E(t)
	reg := prometheus.NewRegistry()
	e.st.API.SetMetrics(metrics.NewLane(reg))
	send := func(method, path, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, e.st.URL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		req.Header.Set("client-id", "LANE1")
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var a answer
		if err := json.Unmarshal(b, &a); err != nil || a.Result.Code == "" {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
		return a.Result.Code
	}
	want := map[[2]string]float64{}
	for _, r := range []struct{ method, path, body, endpoint string }{
		{"POST", "/ams/api/v1/payments/pay", payBody("m-1", e.testCode("281001", 1, 0), 100), "pay"},
		{"POST", "/ams/api/v1/payments/%70ay", payBody("m-2", e.testCode("281001", 2, 0), 100), "pay"},
		{"POST", "/ams/api/v1/payments/pay", `{"paymentRequestId":`, "pay"},
		{"POST", "/ams/api/v1/payments/inquiryPayment", `{"paymentRequestId":"nobody"}`, "inquiryPayment"},
		{"GET", "/ams/api/v1/payments/cancel", "", "cancel"},
		{"POST", "/ams/api/v1/payments/capture", `{}`, "other"},
		{"POST", "/ams/sandbox/api/v1/payments/inquiryRefund", `{"refundRequestId":"nobody"}`, "inquiryRefund"},
	} {
		rc := send(r.method, r.path, r.body)
		want[[2]string{r.endpoint, rc}]++
	}
	if want[[2]string{"pay", "SUCCESS"}] != 2 {
		t.Fatalf("the two pays were not both answered SUCCESS: %v", want)
	}
	got := map[[2]string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "paycode_lane_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			lbl := map[string]string{}
			for _, lp := range m.GetLabel() {
				lbl[lp.GetName()] = lp.GetValue()
			}
			if v := m.GetCounter().GetValue(); v > 0 {
				got[[2]string{lbl["endpoint"], lbl["result"]}] = v
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("counted %v, answered %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("endpoint %s result %s: counted %v, answered %v", k[0], k[1], got[k], v)
		}
	}
}
