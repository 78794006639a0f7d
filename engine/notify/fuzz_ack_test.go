package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/notify"
)

// FuzzAck: a merchant answers a notification with any HTTP status and
// body. Notify never panics; a failure is ErrNotAcknowledged (the answer
// arrived: not a transport error); a non-200 is never an
// acknowledgement; and for a body encoding/json reads without ambiguity
// (no key of the result twice, no escapes in keys) Notify acknowledges
// exactly when result.resultCode is SUCCESS and result.resultStatus is S
// — a missed acknowledgement would repeat the notification.
//
//	go test -run '^$' -fuzz '^FuzzAck$' -fuzztime 3m -parallel 1 ./engine/notify/
func FuzzAck(f *testing.F) {
	for _, s := range []string{
		ack, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}`, `{"result":{"resultCode":"PROCESS_FAIL","resultStatus":"F"}}`,
		`{"result":{"resultStatus":"S","resultCode":"SUCCESS"},"x":[1,{"y":null}]}`, `{"result":{"resultCode":"SUCCESS"}}`,
		`{"result":"SUCCESS"}`, `ok`, ``, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"}} trailing`,
	} {
		f.Add(200, []byte(s))
	}
	f.Add(500, []byte(ack))
	f.Add(204, []byte(``))
	var status int
	var body []byte
	url := serve(f, func(ctx *fasthttp.RequestCtx) {
		ctx.SetStatusCode(status)
		ctx.SetBody(body)
	})
	n, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"127.0.0.1"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, st int, b []byte) {
		if st < 200 || st > 599 {
			st = 200 + (st%400+400)%400
		}
		status, body = st, b
		err := n.Notify(context.Background(), "C1", url+"/n", []byte(`{"x":1}`))
		if err != nil && !errors.Is(err, notify.ErrNotAcknowledged) {
			t.Fatalf("the merchant's answer was lost: %v", err)
		}
		if st != fasthttp.StatusOK {
			if err == nil {
				t.Fatalf("HTTP %d acknowledged", st)
			}
			return
		}
		if bytes.Contains(b, []byte(`\`)) || duplicateKeys(b) {
			return // ambiguous to other readers (fastjson's first key wins)
		}
		var top, result map[string]json.RawMessage
		var code, status string
		if json.Unmarshal(b, &top) != nil {
			return // not an object encoding/json reads
		}
		if json.Unmarshal(top["result"], &result) == nil {
			_ = json.Unmarshal(result["resultCode"], &code)
			_ = json.Unmarshal(result["resultStatus"], &status)
		}
		want := code == "SUCCESS" && status == "S"
		if want != (err == nil) {
			t.Fatalf("answer %q: acknowledged %v, encoding/json reads %q/%q", b, err == nil, code, status)
		}
	})
}

// duplicateKeys reports whether some object in JSON text b has a key twice
// (false when b is not JSON).
func duplicateKeys(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, isKey := tok.(string); isKey && top != nil && top.object && top.key {
			if top.keys[k] {
				return true
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, object: true, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true // a value ended: a key or the end comes next
		}
	}
}
