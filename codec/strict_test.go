package codec

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/valyala/fastjson"
)

// laneStrictOracle is what laneStrict replaced: fastjson.Validate for
// strictness, and a flat scan of the escapes for surrogate pairs (exact
// on text Validate accepted: backslashes occur only inside strings). And
// encoding/json's Valid: Validate checks a string for raw control
// characters only after its last escape ("\x04\\n" passed), which
// laneStrict refuses, as RFC 8259 does.
func laneStrictOracle(b []byte) (strict, paired bool) {
	if fastjson.ValidateBytes(b) != nil || !json.Valid(b) {
		return false, true
	}
	for {
		i := bytes.IndexByte(b, '\\')
		if i < 0 || i+1 >= len(b) {
			return true, true
		}
		b = b[i+1:]
		if b[0] != 'u' || len(b) < 5 {
			b = b[1:]
			continue
		}
		u := laneHex4(b[1:5])
		b = b[5:]
		switch {
		case u >= 0xDC00 && u <= 0xDFFF:
			return true, false
		case u >= 0xD800 && u <= 0xDBFF:
			if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
				return true, false
			}
			if l := laneHex4(b[2:6]); l < 0xDC00 || l > 0xDFFF {
				return true, false
			}
			b = b[6:]
		}
	}
}

var laneStrictCases = []string{
	`{}`, ` { "a" : 1 } `, "{\"a\":\t[1,-2,3.5,-0.25e+10,0,1E5,true,false,null,{}]}\r\n",
	`{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":1e+}`, `{"a":.5}`, `{"a":+1}`, `{"a":-01}`, `{"a":1.2.3}`,
	`{"a":NaN}`, `{"a":nan}`, `{"a":Inf}`, `{"a":-Inf}`, `{"a":infinity}`, `{"a":1x}`, `{"a":truex}`, `{"a":nul}`,
	"{\"a\":\"x\ty\"}", "{\"a\":\"\x04\\n\"}", "{\"a\x01\":1}", `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12G4"}`, `{"a":"\/\b\f\n\r\t\"\\"}`,
	`{"\u00e9":"\u00E9"}`, `{"k\"ey":1}`, `{"a":"\uD83D\uDE00"}`, `{"a":"\uD83D"}`, `{"a":"\uDE00"}`,
	`{"a":"\uD83D\u0041"}`, `{"a":"\uD83D\uD83D\uDE00"}`, `{"a":"\uD83D\n"}`, `{"a":"\uD83Dx"}`, `{"a":"\uD83D\uDE0"}`,
	`{"a":"\\uD83D"}`, `{"a":"\uDE00\x"}`, `{"a":"\uD83D\uZZZZ"}`, `[1,2]`, `"s"`, `5`, "{\"a\":\"caf\xc3\xa9\"}",
	"{\"a\":\"\xff\"}", `{"a":1,}`, `{"a" 1}`, `{"a":[1 2]}`,
	`{"productCode":"IN_STORE_PAYMENT","paymentRequestId":"bench-000000000001","order":{"orderDescription":"2 x caf\u00e9 \"to go\"",` +
		`"orderAmount":{"currency":"HKD","value":"5600"},"merchant":{"referenceMerchantId":"M0001","merchantMCC":5814,` +
		`"store":{"referenceStoreId":"S01"}},"env":{"storeTerminalId":"LANE-07"},"goods":[{"price":1.5e2,"qty":-0}]},` +
		`"paymentAmount":{"currency":"HKD","value":"5600"},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET",` +
		`"paymentMethodId":"281001020000000000000100"},"paymentFactor":{"inStorePaymentScenario":"PaymentCode"},"extendInfo":null}`,
}

// TestLaneStrict: laneStrict agrees with the oracle on bodies fastjson's
// parser accepts (open runs it only on those).
func TestLaneStrict(t *testing.T) {
	seen := 0
	for _, c := range laneStrictCases {
		var p fastjson.Parser
		if _, err := p.Parse(c); err != nil {
			continue
		}
		seen++
		s, pa := laneStrict([]byte(c))
		ws, wp := laneStrictOracle([]byte(c))
		if s != ws || (s && pa != wp) {
			t.Errorf("%q: strict %v paired %v, want %v %v", c, s, pa, ws, wp)
		}
	}
	if seen < 30 {
		t.Fatalf("only %d cases parse: the table does not test laneStrict", seen)
	}
}

// FuzzLaneStrict: laneStrict is fastjson.Validate plus the surrogate
// scan, on every body fastjson's parser accepts.
func FuzzLaneStrict(f *testing.F) {
	for _, c := range laneStrictCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p fastjson.Parser
		if _, err := p.ParseBytes(b); err != nil {
			return
		}
		s, pa := laneStrict(b)
		ws, wp := laneStrictOracle(b)
		if s != ws || (s && pa != wp) {
			t.Fatalf("%q: strict %v paired %v, want %v %v", b, s, pa, ws, wp)
		}
	})
}
