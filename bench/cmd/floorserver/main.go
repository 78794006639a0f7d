// Command floorserver is the I/O floor under a pay: a lane-facing
// fasthttp server that does exactly the I/O one paycode pay does, with
// the same libraries, and none of paycode's logic. For each POST it
//
//   - reads the lane's JSON body and takes paymentRequestId, the payment
//     code (paymentMethod.paymentMethodId) and paymentAmount out of it
//     (fastjson, as paycode's codec);
//   - writes an intent record of a pay's size to a Pebble store opened
//     with the journal's own options (journal.OpenDB) and waits for its
//     WAL fsync (pebble.Sync: concurrent pays share one fsync through
//     Pebble's group commit, with the same WALMinSyncInterval serve uses);
//   - makes one request to the wallet the code's 6-digit prefix names
//     (a fasthttp.HostClient per wallet, as paycode's wallet client), with
//     a well-formed Alipay+ pay body carrying the lane's paymentRequestId,
//     so `paycode sim` books one fresh payment per pay, and reads the
//     answer's result.resultStatus;
//   - writes an outcome record of a pay's size without waiting for its
//     fsync, and asks a background goroutine for one synced empty commit
//     (serve's default: a success answered before its fsync, durable
//     within one; -background-sync=false leaves it out);
//   - answers a fixed-shape Antom pay answer (the lane's paymentRequestId
//     echoed, about the size of paycode's).
//
// What it leaves out is what paycode adds above the floor: validation,
// identification, the single-use check and in-memory indexes, the
// payment's state machine, the journal's record encoding and index keys,
// admission, signatures, metrics, the engine-time header, the payment
// log line and the follow-up machinery. It is no payment server: it
// checks nothing, keeps nothing across a restart and answers SUCCESS
// whatever the wallet said (a failed wallet call is answered U). Run it
// where paycode serve would run, under the same generator:
//
//	paycode sim -latency zero -port 7301 > sim.yaml &
//	go run ./bench/cmd/floorserver -listen 127.0.0.1:8580 -data /tmp/floor \
//	    -wallets 281001=http://127.0.0.1:7301,281003=http://127.0.0.1:7302,281010=http://127.0.0.1:7303,281011=http://127.0.0.1:7304 &
//	paycode load -scenario testdata/scenarios/capacity.yaml -rate 3000 \
//	    -target http://127.0.0.1:8580 -target-pid $! -no-check
//
// bench/ratio.sh -floor runs it between paycode and bench/cmd/bareserver
// and prints the three CPU costs per request and their ratios
// (docs/performance.md, "The floor").
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // -pprof: the same profiles serve's admin listener gives
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/journal"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "lane address to listen on (loopback)")
	data := flag.String("data", "", "directory of the Pebble store (created; required)")
	wallets := flag.String("wallets", "", "PREFIX=URL,…: the wallet each 6-digit code prefix goes to (paycode sim's)")
	window := flag.Duration("sync-window", time.Millisecond, "Pebble's least time between WAL fsyncs (serve's -sync-window)")
	journaled := flag.Bool("journal", true, "write the intent and outcome records (false: the lane and wallet I/O alone, to split the floor)")
	bgSync := flag.Bool("background-sync", true, "after each unsynced outcome, one synced empty commit on a background goroutine (serve's journal does)")
	// Pebble batches of 467 and 369 bytes: what a capacity pay's intent
	// and outcome write in serve's journal (measured in-process: WAL
	// BytesIn around the wallet call); a batch is the record plus 16.
	intentBytes := flag.Int("intent-bytes", 451, "bytes of the synced intent record (key and value)")
	outcomeBytes := flag.Int("outcome-bytes", 353, "bytes of the unsynced outcome record (key and value)")
	maxConns := flag.Int("max-conns", 256, "connections per wallet (paycode's default wallet pool)")
	pprofAddr := flag.String("pprof", "", "address for net/http/pprof (/debug/pprof/profile, /debug/pprof/trace) and /pays (pays answered so far, twice: bench/trace.sh reads it as serve's admitted and all), e.g. 127.0.0.1:9581; off when empty")
	flag.Parse()
	if *data == "" || *wallets == "" {
		fmt.Fprintln(os.Stderr, "floorserver: -data and -wallets are required")
		os.Exit(2)
	}
	if !*journaled {
		*intentBytes, *outcomeBytes, *bgSync = 0, 0, false
	}
	f, err := newFloor(*data, *wallets, *window, *bgSync, *intentBytes, *outcomeBytes, *maxConns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floorserver:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floorserver:", err)
		os.Exit(1)
	}
	fmt.Printf("floorserver: pid %d, http://%s, %d wallets, intent %d B synced, outcome %d B unsynced, sync window %s\n",
		os.Getpid(), ln.Addr(), len(f.wallets), *intentBytes, *outcomeBytes, *window)
	if *pprofAddr != "" {
		http.HandleFunc("/pays", func(w http.ResponseWriter, _ *http.Request) {
			n := f.pays.Load()
			fmt.Fprintf(w, "%d %d\n", n, n)
		})
		go func() { fmt.Fprintln(os.Stderr, "floorserver: pprof:", http.ListenAndServe(*pprofAddr, nil)) }()
	}
	srv := &fasthttp.Server{Name: "floor", Handler: f.handle}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		_ = srv.Shutdown()
	}()
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "floorserver:", err)
	}
	walIn := f.db.Metrics().WAL.BytesIn
	f.close()
	fmt.Printf("floorserver: %d pays, %d wallet errors, %d WAL bytes in (%.0f per pay)\n",
		f.pays.Load(), f.walletErrs.Load(), walIn, float64(walIn)/float64(max(f.pays.Load(), 1)))
}

// floor is the server's state: the store, the wallets, the pools.
type floor struct {
	db           *pebble.DB
	wallets      map[string]*wallet // by 6-digit code prefix
	intentPad    int                // value bytes after the key and the fixed part
	outcomePad   int
	parsers      fastjson.ParserPool
	bufs         sync.Pool // *buffers
	nudge        chan struct{}
	nudged       atomic.Bool
	done         chan struct{} // closed by close: syncLoop returns
	loopDone     chan struct{} // closed when syncLoop has returned
	pays         atomic.Int64
	walletErrs   atomic.Int64
	intentBytes  int
	outcomeBytes int
}

type wallet struct {
	hc  *fasthttp.HostClient
	url string
}

// buffers is one pay's reusable key, value and wallet-body buffers.
type buffers struct{ key, val, body, out []byte }

const prefixLen = 6

func newFloor(dir, wallets string, window time.Duration, bgSync bool, intentBytes, outcomeBytes, maxConns int) (*floor, error) {
	f := &floor{wallets: map[string]*wallet{}, intentBytes: intentBytes, outcomeBytes: outcomeBytes, done: make(chan struct{})}
	for _, w := range strings.Split(wallets, ",") {
		prefix, url, ok := strings.Cut(w, "=")
		addr, found := strings.CutPrefix(url, "http://")
		if !ok || len(prefix) != prefixLen || !found {
			return nil, fmt.Errorf("-wallets: %q is not PREFIX=http://HOST:PORT with a 6-digit prefix", w)
		}
		f.wallets[prefix] = &wallet{url: url + "/aps/api/v1/payments/pay", hc: &fasthttp.HostClient{
			Addr: strings.TrimSuffix(addr, "/"), Name: "floor", MaxConns: maxConns,
			MaxIdemponentCallAttempts: 1,
		}}
	}
	db, err := journal.OpenDB(dir, journal.Options{WALMinSyncInterval: max(0, window)})
	if err != nil {
		return nil, err
	}
	f.db = db
	f.bufs.New = func() any { return &buffers{} }
	if bgSync {
		f.nudge, f.loopDone = make(chan struct{}, 1), make(chan struct{})
		go f.syncLoop()
	}
	return f, nil
}

func (f *floor) close() {
	if f.nudge != nil {
		close(f.done)
		<-f.loopDone // its last commit is done before the store closes
	}
	_ = f.db.Close()
}

// syncLoop makes the unsynced outcomes durable soon: one synced empty
// commit per nudge, as the journal's BackgroundSync.
func (f *floor) syncLoop() {
	defer close(f.loopDone)
	for {
		select {
		case <-f.done:
			return
		case <-f.nudge:
		}
		f.nudged.Store(false)
		b := f.db.NewBatch()
		_ = b.LogData(nil, nil)
		if err := b.Commit(pebble.Sync); err != nil {
			fmt.Fprintln(os.Stderr, "floorserver: sync:", err)
		}
		_ = b.Close()
	}
}

func (f *floor) syncSoon() {
	if f.nudge != nil && f.nudged.CompareAndSwap(false, true) {
		select {
		case f.nudge <- struct{}{}:
		default:
		}
	}
}

var errNoWallet = errors.New("no wallet for the code's prefix")

func (f *floor) handle(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	}
	p := f.parsers.Get()
	defer f.parsers.Put(p)
	v, err := p.ParseBytes(ctx.PostBody())
	if err != nil {
		answerError(ctx, "PARAM_ILLEGAL", "F")
		return
	}
	reqID := v.GetStringBytes("paymentRequestId")
	code := v.GetStringBytes("paymentMethod", "paymentMethodId")
	currency := v.GetStringBytes("paymentAmount", "currency")
	value := v.GetStringBytes("paymentAmount", "value")
	if len(reqID) == 0 || len(code) < prefixLen || len(currency) == 0 || len(value) == 0 {
		answerError(ctx, "PARAM_ILLEGAL", "F")
		return
	}
	b := f.bufs.Get().(*buffers)
	defer f.bufs.Put(b)
	b.key = append(append(b.key[:0], "p/"...), reqID...)
	// The intent, durable before the wallet hears of the pay.
	if err := f.write(b, f.intentBytes, pebble.Sync); err != nil {
		answerError(ctx, "UNKNOWN_EXCEPTION", "U")
		return
	}
	ok, err := f.callWallet(b, reqID, code, currency, value)
	if err != nil {
		f.walletErrs.Add(1)
		answerError(ctx, "UNKNOWN_EXCEPTION", "U")
		return
	}
	// The outcome, written without waiting for its fsync.
	if err := f.write(b, f.outcomeBytes, pebble.NoSync); err != nil {
		answerError(ctx, "UNKNOWN_EXCEPTION", "U")
		return
	}
	f.syncSoon()
	f.pays.Add(1)
	if !ok {
		answerError(ctx, "PAYMENT_IN_PROCESS", "U")
		return
	}
	b.out = appendAnswer(b.out[:0], reqID, currency, value)
	ctx.SetContentType("application/json; charset=UTF-8")
	ctx.SetBody(b.out)
}

// write commits b.key with a value that makes the record size bytes;
// nothing when size is 0 (-journal=false).
func (f *floor) write(b *buffers, size int, wo *pebble.WriteOptions) error {
	if size == 0 {
		return nil
	}
	n := max(size-len(b.key), 1)
	if cap(b.val) < n {
		b.val = make([]byte, n)
	}
	b.val = b.val[:n]
	pb := f.db.NewBatch()
	if err := pb.Set(b.key, b.val, nil); err != nil {
		_ = pb.Close()
		return err
	}
	if err := pb.Commit(wo); err != nil {
		return err
	}
	return pb.Close()
}

// callWallet sends the Alipay+ pay to the code's wallet and reports
// whether it answered result.resultStatus "S".
func (f *floor) callWallet(b *buffers, reqID, code, currency, value []byte) (bool, error) {
	w := f.wallets[string(code[:prefixLen])]
	if w == nil {
		return false, errNoWallet
	}
	b.body = appendWalletPay(b.body[:0], reqID, code, currency, value)
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(w.url)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json; charset=UTF-8")
	req.SetBodyRaw(b.body)
	if err := w.hc.DoDeadline(req, resp, time.Now().Add(5*time.Second)); err != nil {
		return false, err
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return false, fmt.Errorf("wallet answered HTTP %d", resp.StatusCode())
	}
	p := f.parsers.Get()
	defer f.parsers.Put(p)
	v, err := p.ParseBytes(resp.Body())
	if err != nil {
		return false, err
	}
	return string(v.GetStringBytes("result", "resultStatus")) == "S", nil
}

// appendWalletPay appends an Alipay+ pay request body of the shape
// paycode's wallet client sends (codec.AppendMPPPayRequest). The lane's
// strings are written JSON-escaped, as paycode writes them: fastjson
// handed them over unescaped, and a paymentRequestId may hold a quote or
// a backslash.
func appendWalletPay(dst, reqID, code, currency, value []byte) []byte {
	dst = append(dst, `{"acquirerId":"ACQ-FLOOR","pspId":"PSP-FLOOR","paymentRequestId":`...)
	dst = codec.AppendJSONString(dst, reqID)
	dst = append(dst, `,"paymentAmount":{"currency":`...)
	dst = codec.AppendJSONString(dst, currency)
	dst = append(dst, `,"value":`...)
	dst = codec.AppendJSONString(dst, value)
	dst = append(dst, `},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":`...)
	dst = codec.AppendJSONString(dst, code)
	dst = append(dst, `},"paymentFactor":{"inStorePaymentScenario":"PaymentCode","isInStorePayment":"true"},"order":{"orderDescription":`...)
	dst = codec.AppendJSONString(dst, reqID)
	dst = append(dst, `,"merchant":{"referenceMerchantId":"M0001","store":{"referenceStoreId":"S01"}},"env":{"storeTerminalId":"LANE-0001"}},"paymentExpiryTime":"`...)
	dst = time.Now().Add(time.Minute).UTC().AppendFormat(dst, time.RFC3339)
	return append(dst, `"}`...)
}

// appendAnswer appends an Antom pay answer of the shape paycode writes
// for a success, the lane's strings JSON-escaped.
func appendAnswer(dst, reqID, currency, value []byte) []byte {
	dst = append(dst, `{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentId":"F`...)
	dst = strconv.AppendInt(dst, time.Now().UnixNano(), 10)
	dst = append(dst, `","paymentRequestId":`...)
	dst = codec.AppendJSONString(dst, reqID)
	dst = append(dst, `,"paymentAmount":{"currency":`...)
	dst = codec.AppendJSONString(dst, currency)
	dst = append(dst, `,"value":`...)
	dst = codec.AppendJSONString(dst, value)
	now := time.Now().UTC()
	dst = append(dst, `},"paymentCreateTime":"`...)
	dst = now.AppendFormat(dst, time.RFC3339)
	dst = append(dst, `","paymentTime":"`...)
	dst = now.AppendFormat(dst, time.RFC3339)
	return append(dst, `","customerId":"floor-customer","walletBrandName":"FLOOR"}`...)
}

func answerError(ctx *fasthttp.RequestCtx, code, status string) {
	ctx.SetContentType("application/json; charset=UTF-8")
	ctx.SetBodyString(`{"result":{"resultCode":"` + code + `","resultStatus":"` + status + `","resultMessage":"` + code + `"}}`)
}
