package mpp_test

import (
	"strings"
	"testing"

	"github.com/paycode/paycode/engine/mpp"
)

// TestConfigBaseURLRedacted: a BaseURL that Validate refuses is quoted
// without its user-info, query or fragment (a password, a token), and
// String never prints them either.
func TestConfigBaseURLRedacted(t *testing.T) {
	for _, raw := range []string{
		"https://wallet:s3cret-pw@wallet.example/mpp",
		"https://s3cret-pw@wallet.example/mpp",
		"https://wallet.example/mpp?token=s3cret-pw",
		"https://wallet.example/mpp#s3cret-pw",
		"https://wallet:s3cret-pw@wallet example/mpp",  // not a URL at all
		"https:wallet:s3cret-pw@wallet.example/mpp",    // no //: opaque
		"https:///wallet:s3cret-pw@wallet.example/mpp", // ///: all path
		"wallet:s3cret-pw@wallet.example/mpp",          // no scheme
	} {
		c := mpp.Config{Name: "A", BaseURL: raw, AcquirerID: "a", PSPID: "p"}
		err := c.Validate()
		if err == nil {
			t.Fatalf("%s: Validate accepted it", raw)
		}
		for _, text := range []string{err.Error(), c.String()} {
			if strings.Contains(text, "s3cret-pw") {
				t.Errorf("%s: printed whole: %s", raw, text)
			}
		}
		if !strings.Contains(err.Error(), "config A: BaseURL") {
			t.Errorf("%s: the error does not name the setting: %v", raw, err)
		}
	}
	c := mpp.Config{Name: "A", BaseURL: "https://wallet:s3cret-pw@wallet.example/mpp?x=1"}
	if s := c.String(); !strings.Contains(s, "wallet.example/mpp") {
		t.Errorf("String lost the host and path: %s", s)
	}
}
