package load

import "testing"

// TestSplitHTTP: the Sender's own connections take http URLs apart into
// the Host header and the request line's URI; anything else goes to the
// Client.
func TestSplitHTTP(t *testing.T) {
	for _, c := range []struct {
		url, host, uri string
		ok             bool
	}{
		{"http://127.0.0.1:8080/ams/api/v1/payments/pay?k=p&n=12", "127.0.0.1:8080", "/ams/api/v1/payments/pay?k=p&n=12", true},
		{"http://paycode", "paycode", "/", true},
		{"http://[::1]:80/x", "[::1]:80", "/x", true},
		{"https://paycode/x", "", "", false},
		{"http://user:pw@paycode/x", "", "", false},
		{"http:///x", "", "", false},
	} {
		host, uri, ok := splitHTTP(c.url)
		if host != c.host || uri != c.uri || ok != c.ok {
			t.Errorf("splitHTTP(%q) = %q, %q, %v; want %q, %q, %v", c.url, host, uri, ok, c.host, c.uri, c.ok)
		}
	}
}

// TestJSONString: the first "key":"value" of a JSON text, the key whole
// (a longer key ending in it does not count).
func TestJSONString(t *testing.T) {
	for _, c := range []struct {
		body, key, want string
		found           bool
	}{
		{`{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentId":"P1"}`, "resultCode", "SUCCESS", true},
		{`{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentId":"P1"}`, "paymentId", "P1", true},
		{`{"xpaymentId":"X","paymentId":"P2"}`, "paymentId", "P2", true},
		{`{"paymentId":""}`, "paymentId", "", true},
		{`paymentId":"P3"`, "paymentId", "", false},
		{`{"paymentId":"P4`, "paymentId", "", false},
		{`{"paymentId":1}`, "paymentId", "", false},
		{``, "paymentId", "", false},
	} {
		got := jsonString([]byte(c.body), c.key)
		if string(got) != c.want || (got != nil) != c.found {
			t.Errorf("jsonString(%s, %s) = %q (nil %v), want %q", c.body, c.key, got, got == nil, c.want)
		}
	}
}
