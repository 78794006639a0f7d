package load_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/loadtest/load"
)

// TestFastTransport: a request crosses with its method, path, query,
// headers and body; the answer comes back with status, canonical header
// names and body; a slow answer is a timeout error.
func TestFastTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(300 * time.Millisecond)
		}
		b, _ := io.ReadAll(r.Body)
		w.Header()["paycode-engine-us"] = []string{"42"} // as fasthttp servers send it: lower case
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Client-Id")+" "+string(b))
	}))
	defer srv.Close()
	c := &http.Client{Transport: load.NewFastTransport(4, 100*time.Millisecond)}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ams/api/v1/payments/pay?k=p&n=7", strings.NewReader(`{"a":1}`))
	req.Header.Set("client-id", "LOADTEST")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || resp.Header.Get("Paycode-Engine-Us") != "42" ||
		string(b) != `POST /ams/api/v1/payments/pay?k=p&n=7 LOADTEST {"a":1}` {
		t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, b)
	}
	if _, err := c.Get(srv.URL + "/slow"); err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("slow answer: %v", err)
	}
}
