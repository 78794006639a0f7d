package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/loadtest/killtest"
)

// edgeAnswer is the part of a lane answer these tests read.
type edgeAnswer struct {
	Result struct {
		Code    string `json:"resultCode"`
		Status  string `json:"resultStatus"`
		Message string `json:"resultMessage"`
	} `json:"result"`
	PaymentID string `json:"paymentId"`
}

// edgePost posts body to the lane API as clientID over real HTTP.
func edgePost(t *testing.T, lane, api, clientID, body string) edgeAnswer {
	t.Helper()
	req, _ := http.NewRequest("POST", lane+"/ams/api/v1/payments/"+api, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("client-id", clientID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a edgeAnswer
	if err := json.Unmarshal(b, &a); err != nil || a.Result.Code == "" {
		t.Fatalf("%s: %v in %s", api, err, b)
	}
	return a
}

func freshCode(last2 int) string { return fmt.Sprintf("28101102%014d%02d", rand.Int64N(1e14), last2) }

// TestNotifyURLCannotReachPaycode: a lane cannot make
// paycode POST to its own admin listener (the reproduction reloaded the
// routing rules), nor use a notify URL that is not an absolute http(s)
// URL with a host: such pays are refused at arrival with PARAM_ILLEGAL
// naming the field, and nothing is recorded. A name that resolves to the
// admin listener passes the arrival check and is refused when paycode
// connects. Notifications to an allowed receiver still arrive (the
// embedded default allows loopback over http).
func TestNotifyURLCannotReachPaycode(t *testing.T) {
	lane, admin, logs := startServe(t, "-memory", "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-engine.notify-schedule", "0s,50ms")
	_, adminPort, _ := net.SplitHostPort(strings.TrimPrefix(admin, "http://"))
	_, lanePort, _ := net.SplitHostPort(strings.TrimPrefix(lane, "http://"))

	refused := []struct{ name, url string }{
		{"admin reload", admin + "/admin/reload"},
		{"admin on [::ffff:127.0.0.1]", "http://[::ffff:127.0.0.1]:" + adminPort + "/admin/reload"},
		{"lane listener", lane + "/ams/api/v1/payments/cancel"},
		{"not a url", "not a url"},
		{"ftp", "ftp://merchant.example/notify"},
		{"user-info", "https://user:pw@merchant.example/notify"},
		{"no host", "https:///notify"},
	}
	for i, c := range refused {
		id := fmt.Sprintf("ssrf-%d-%d", i, time.Now().UnixNano())
		a := edgePost(t, lane, "pay", "LANE1", killtest.PayBody(id, freshCode(0), 100, c.url))
		if a.Result.Code != "PARAM_ILLEGAL" || a.Result.Status != "F" || !strings.Contains(a.Result.Message, "paymentNotifyUrl") {
			t.Errorf("%s: %+v", c.name, a.Result)
		}
		if q := edgePost(t, lane, "inquiryPayment", "LANE1", fmt.Sprintf(`{"paymentRequestId":%q}`, id)); q.Result.Code != "ORDER_NOT_EXIST" {
			t.Errorf("%s: a refused pay was recorded: %+v", c.name, q.Result)
		}
	}
	// refundNotifyUrl: the same rules.
	p := edgePost(t, lane, "pay", "LANE1", killtest.PayBody(fmt.Sprintf("ssrf-r-%d", time.Now().UnixNano()), freshCode(0), 100, ""))
	if r := edgePost(t, lane, "refund", "LANE1", fmt.Sprintf(`{"refundRequestId":"rf-%d","paymentId":%q,"refundAmount":{"currency":"HKD","value":"10"},"refundNotifyUrl":%q}`,
		time.Now().UnixNano(), p.PaymentID, admin+"/admin/reload")); r.Result.Code != "PARAM_ILLEGAL" || !strings.Contains(r.Result.Message, "refundNotifyUrl") {
		t.Errorf("refund to the admin listener: %+v", r.Result)
	}

	// A name for the admin listener: accepted at arrival (names resolve
	// when dialled), refused at connect time, retried, never delivered.
	id := fmt.Sprintf("ssrf-name-%d", time.Now().UnixNano())
	if a := edgePost(t, lane, "pay", "LANE1", killtest.PayBody(id, freshCode(0), 100, "http://localhost:"+adminPort+"/admin/reload")); a.Result.Code != "SUCCESS" {
		t.Fatalf("pay with a named notify URL: %+v", a.Result)
	}
	// The schedule has two attempts: the first is retried, the second
	// ends the schedule and the notification is abandoned.
	jsonLine(t, logs, "notification not acknowledged, will retry", func(m map[string]any) bool {
		return m["attempt"] == 1.0 && strings.Contains(fmt.Sprint(m["err"]), "does not notify")
	}, 10*time.Second)
	jsonLine(t, logs, "notification abandoned: the merchant acknowledged none of the schedule's attempts", func(m map[string]any) bool {
		return m["attempts"] == 2.0 && strings.Contains(fmt.Sprint(m["err"]), "does not notify")
	}, 10*time.Second)
	// Lane listener by name: the same.
	edgePost(t, lane, "pay", "LANE1", killtest.PayBody(id+"-lane", freshCode(0), 100, "http://localhost:"+lanePort+"/ams/api/v1/payments/cancel"))

	// An allowed receiver gets its notification.
	got := make(chan string, 4)
	recv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		io.WriteString(w, `{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}`)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go recv.Serve(ln)
	defer recv.Close()
	okID := fmt.Sprintf("notify-ok-%d", time.Now().UnixNano())
	edgePost(t, lane, "pay", "LANE1", killtest.PayBody(okID, freshCode(0), 100, "http://"+ln.Addr().String()+"/notify"))
	select {
	case b := <-got:
		if !strings.Contains(b, okID) {
			t.Errorf("receiver got %s", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the allowed receiver got no notification")
	}
	if strings.Contains(logs.String(), "routing rules reloaded") {
		t.Fatal("a notification reached /admin/reload")
	}
}

// TestAdminReloadNeedsToken: POST /admin/reload is refused
// without the configured token (403), with a wrong one (403), and as GET
// (405); with the token it reloads. Without a token configured it is
// refused whoever asks.
func TestAdminReloadNeedsToken(t *testing.T) {
	do := func(method, admin, token string) (int, string) {
		req, _ := http.NewRequest(method, admin+"/admin/reload", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, open, logs := startServe(t, "-memory", "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0")
	if code, body := do("POST", open, ""); code != 403 || !strings.Contains(body, "adminToken") {
		t.Errorf("no token configured: %d %s", code, body)
	}
	_, admin, logs2 := startServe(t, "-memory", "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-admin-token", testAdminToken)
	for _, c := range []struct {
		method, token string
		want          int
	}{
		{"POST", "", 403}, {"POST", "wrong-token-0123456789", 403}, {"POST", testAdminToken + "x", 403},
		{"GET", testAdminToken, 405}, {"POST", testAdminToken, 200},
	} {
		if code, body := do(c.method, admin, c.token); code != c.want {
			t.Errorf("%s token %q: %d %s, want %d", c.method, c.token, code, body, c.want)
		}
	}
	jsonLine(t, logs2, "routing rules reloaded; identification cache dropped", nil, time.Second)
	if strings.Contains(logs.String(), "routing rules reloaded") {
		t.Error("the unguarded admin reloaded")
	}
	_, allowed, _ := startServe(t, "-memory", "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-admin-allow", "[127.0.0.1]")
	if code, body := do("POST", allowed, ""); code != 200 {
		t.Errorf("from an allowed address: %d %s", code, body)
	}
}
