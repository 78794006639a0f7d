package load_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/loadtest/load"
)

func TestLedgerURLs(t *testing.T) {
	sc, err := load.ParseScenario([]byte("stages: [{duration: 1s, rate: 1}]\nwallets: {\"281001\": 1, \"281003\": 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	sim := func(name, url string, p ...string) load.AdminWallet {
		return load.AdminWallet{Name: name, Prefixes: p, URL: url, Simulated: true}
	}
	for _, tt := range []struct {
		name string
		ws   []load.AdminWallet
		want string // joined URLs, or an error fragment
	}{
		{"all simulated", []load.AdminWallet{sim("a", "http://a", "281001"), sim("b", "http://b", "281003"), sim("c", "http://c", "281010")}, "http://a,http://b,http://c"},
		{"shorter prefix", []load.AdminWallet{sim("a", "http://a", "28"), sim("b", "http://b", "281003")}, "http://a,http://b"},
		{"same url twice", []load.AdminWallet{sim("a", "http://a", "281001"), sim("a2", "http://a", "281003")}, "http://a"},
		{"not simulated", []load.AdminWallet{sim("a", "http://a", "281001"), {Name: "real", Prefixes: []string{"281003"}, URL: "https://w"}}, "prefix 281003 goes to wallet real, which is not simulated"},
		{"no wallet", []load.AdminWallet{sim("a", "http://a", "281001")}, "prefix 281003, which no wallet"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			urls, err := load.LedgerURLs(sc, tt.ws)
			got := strings.Join(urls, ",")
			if err != nil {
				got = "error: " + err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFetchAdminWallets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != load.AdminWalletsPath || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"wallets":[{"name":"mpp-281001","prefixes":["281001"],"url":"http://127.0.0.1:7001","simulated":true},{"name":"real","prefixes":["2899"],"url":"https://w.example","simulated":false}]}`))
	}))
	defer srv.Close()
	ws, err := load.FetchAdminWallets(context.Background(), srv.URL+"/", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Name != "mpp-281001" || !ws[0].Simulated || ws[0].URL != "http://127.0.0.1:7001" || ws[1].Simulated || ws[0].Prefixes[0] != "281001" {
		t.Fatalf("%+v", ws)
	}
	if _, err := load.FetchAdminWallets(context.Background(), srv.URL+"/nope", time.Second); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a wrong URL: %v", err)
	}
}
