package admin

import (
	"github.com/valyala/fasthttp"
)

// TestCodePath serves a fresh test code as a PNG: ?outcome=ROW.
const TestCodePath = "/status/testcode.png"

// TestCodeRow is one row of the simulated wallets' test-code table as the
// page lists it.
type TestCodeRow struct {
	Outcome string `json:"outcome"` // the row's name, e.g. password
	Digits  string `json:"digits"`  // the last two digits, e.g. 80–84
	Wallet  string `json:"wallet"`  // the routing prefix the codes carry
	Answer  string `json:"answer"`  // the pay's first answer
	Final   string `json:"final"`   // what the payment settles on
}

// TestCodes supplies the page's scannable test codes. Only a paycode
// whose wallets are simulated has them (cmd/paycode sets them in the
// embedded default): against real wallets a test code means nothing.
type TestCodes interface {
	Rows() []TestCodeRow
	// PNG draws a fresh single-use code of the named row; false when
	// there is no such row.
	PNG(outcome string) ([]byte, bool)
}

// SetTestCodes shows tc's rows on the page, each with a scannable code
// that the page reloads, since each code pays once. Call before serving.
func (h *Page) SetTestCodes(tc TestCodes) { h.testCodes = tc }

func (h *Page) serveTestCode(ctx *fasthttp.RequestCtx) {
	if h.testCodes == nil {
		ctx.Error("no test codes: the wallets are not simulated\n", fasthttp.StatusNotFound)
		return
	}
	b, ok := h.testCodes.PNG(string(ctx.QueryArgs().Peek("outcome")))
	if !ok {
		ctx.Error("unknown outcome\n", fasthttp.StatusNotFound)
		return
	}
	ctx.SetContentType("image/png")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBody(b)
}
