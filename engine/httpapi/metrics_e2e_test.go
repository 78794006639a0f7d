package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/paycode/paycode/codec"

	"github.com/paycode/paycode/engine/metrics"
)

// TestLaneMetricsCountWhatWasAnswered: over real HTTP, every request is
// counted once under the endpoint it was served as and the resultCode in
// the body it got, for answers of every kind (an engine answer, a parse
// error, a refused method, an unknown path, an escaped path that is served
// as a pay).
func TestLaneMetricsCountWhatWasAnswered(t *testing.T) {
	e := newE2E(t)
	lane := metrics.NewLane(prometheus.NewRegistry())
	e.st.API.SetMetrics(lane)
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
	// Every series, counted or not: each holds what was answered.
	for ep := metrics.EndpointOther; ep <= metrics.EndpointDecode; ep++ {
		for i := range 256 {
			rc := codec.ResultCode(i)
			if rc.String() == "" || rc == codec.ResultNone {
				continue
			}
			k := [2]string{ep.String(), rc.String()}
			if got := testutil.ToFloat64(lane.Requests(ep, rc)); got != want[k] {
				t.Errorf("endpoint %s result %s: counted %v, answered %v", k[0], k[1], got, want[k])
			}
			delete(want, k)
		}
	}
	for k, v := range want {
		t.Errorf("endpoint %s result %s: answered %v times, has no series", k[0], k[1], v)
	}
}
