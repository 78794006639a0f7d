package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults, exported so tools and docs can name them.
const (
	// DefaultPayTimeout bounds the pay answer: a wallet that has not
	// answered by then leaves the payment PAYMENT_IN_PROCESS (U) and the
	// follow-up settles it. Antom lanes start polling after 5 s.
	DefaultPayTimeout = 5 * time.Second
	// DefaultWalletCallTimeout bounds each follow-up call (inquiry, cancel,
	// refund) to a wallet.
	DefaultWalletCallTimeout = 5 * time.Second
	// DefaultFollowUpDeadline is how long after creation an unresolved
	// payment is polled before it is cancelled at its wallet. Alipay+ tells
	// acquirers to poll for 60 s, then cancel.
	DefaultFollowUpDeadline = 60 * time.Second
	// DefaultCancelWindow is how long after success a payment may still be
	// cancelled (reversed in full); later, lanes must refund. Contract
	// defined at Antom; one day is our default.
	DefaultCancelWindow = 24 * time.Hour
	// DefaultRefundWindow is how long after success refunds are accepted.
	DefaultRefundWindow = 365 * 24 * time.Hour
	// DefaultFollowUpWorkers bounds concurrent follow-up wallet calls.
	DefaultFollowUpWorkers = 64
	// DefaultMaxFollowUps bounds the follow-up queue; past it new pays are
	// refused with REQUEST_TRAFFIC_EXCEED_LIMIT before dispatch, since a
	// payment that cannot be followed up must not be started.
	DefaultMaxFollowUps = 1 << 20
	// DefaultMaxVoidsPerHour bounds the cancel-before-pay tombstones
	// (void.go) one client may have this node record per clock hour.
	// Each is kept for the retention, so without a bound a signed lane
	// could fill the journal with cancels of made-up request ids; a
	// lane voids only a sale whose pay timed out on the network, far
	// fewer. At the default a client adds at most 1000 × 744 ≈ 744,000
	// tombstones per node over the 31-day retention.
	DefaultMaxVoidsPerHour = 1000
)

// DefaultPollSchedule is the wait before each follow-up inquiry of an
// unresolved payment. Short first steps catch password confirmations (the
// user types within seconds); then it backs off toward the deadline, in the
// spirit of Alipay+'s 4 s, 4 s, 30 s… rule. The last step repeats.
var DefaultPollSchedule = []time.Duration{
	1 * time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second,
	5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
}

// Config configures an Engine. The zero value of each field means its
// default; call EnsureDefaults then Validate.
type Config struct {
	// Wallets by name, as the Identifier names them.
	Wallets map[string]Wallet
	// Identifier routes codes to wallet names.
	Identifier Identifier
	// Clock defaults to SystemClock.
	Clock Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Node is a two-digit node number put in payment ids (00-99).
	Node int

	PayTimeout        time.Duration
	WalletCallTimeout time.Duration
	FollowUpDeadline  time.Duration
	PollSchedule      []time.Duration
	CancelWindow      time.Duration
	RefundWindow      time.Duration
	FollowUpWorkers   int
	MaxFollowUps      int
	// MaxVoidsPerHour bounds the tombstones (cancels of a
	// paymentRequestId no pay was seen for) one client may have this
	// node record per clock hour; past it such a cancel is refused
	// REQUEST_TRAFFIC_EXCEED_LIMIT (U) and nothing is recorded. Client
	// ids marked UnknownClient share one such budget (void.go).
	MaxVoidsPerHour int

	// Journal records payments (required): engine/journal's Pebble
	// (durable, one node), PostgreSQL (several nodes) or Mem (in memory
	// only: a restart forgets everything). The engine runs one path on
	// all three. CodeKey keys the code hashes; give the journal's, so
	// single use holds across restarts (nil: a random key).
	Journal SharedJournal
	CodeKey []byte
	// Notifier delivers notifyPayment (nil: notifications are queued and
	// journaled but not sent). NotifySchedule is the retry schedule.
	Notifier       Notifier
	NotifySchedule []time.Duration
	// Retention is how long final payments (and so idempotency and code
	// single use) are kept before compaction: at least 31 days.
	Retention time.Duration
	// OnFatal is called once when the journal fails (fail-stop).
	OnFatal func(error)
	// AsyncOutcomes lets the journal write of a wallet's success skip
	// waiting for fsync before the lane is answered: one synced write per
	// pay instead of two (the journal makes it durable within its next
	// fsync; engine/journal's Options.BackgroundSync). Safe for the money
	// because a success is the wallet's own durable record: after a crash
	// that lost the write, recovery asks the wallet, which says SUCCESS
	// again, before any deadline cancel; and any later synced write (a
	// refund's or cancel's intent, another pay's) makes it durable first,
	// the journal being written in order. What a lane can see: told
	// SUCCESS, then, only if the node crashed within that fsync and the
	// wallet is unreachable at the restart, PROCESSING on inquiry (and U
	// to a refund) until the wallet answers. Failures, intents, cancels, reversals and
	// refunds are always synced (a failure may leave no record at the
	// wallet to recover it from).
	AsyncOutcomes bool
	// LeaseCheck is how often the node
	// renews its leases, picks up cancels handed to it and takes over the
	// work of nodes whose leases expired (default DefaultLeaseCheck; keep
	// it well under the journal's lease length).
	LeaseCheck time.Duration
	// OnOutcome, when set, is called once per payment that reached its
	// final state (with the payment's lock held: it must not block or call
	// the engine; its argument is valid only during the call: copy what
	// it keeps). Every final payment is also logged at info.
	OnOutcome func(*FinishedPayment)
	// Failpoint, when set, is called at the named points (Fail…) so crash
	// tests can kill the process exactly there. Only binaries built with
	// -tags failpoints have the points; Validate refuses it otherwise.
	Failpoint func(name string)
}

// DefaultRetention keeps idempotency records for 31 days.
const DefaultRetention = 31 * 24 * time.Hour

// EnsureDefaults fills unset fields with the defaults.
func (c *Config) EnsureDefaults() {
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.LeaseCheck == 0 {
		c.LeaseCheck = DefaultLeaseCheck
	}
	if c.PayTimeout == 0 {
		c.PayTimeout = DefaultPayTimeout
	}
	if c.WalletCallTimeout == 0 {
		c.WalletCallTimeout = DefaultWalletCallTimeout
	}
	if c.FollowUpDeadline == 0 {
		c.FollowUpDeadline = DefaultFollowUpDeadline
	}
	if len(c.PollSchedule) == 0 {
		c.PollSchedule = DefaultPollSchedule
	}
	if c.CancelWindow == 0 {
		c.CancelWindow = DefaultCancelWindow
	}
	if c.RefundWindow == 0 {
		c.RefundWindow = DefaultRefundWindow
	}
	if c.FollowUpWorkers == 0 {
		c.FollowUpWorkers = DefaultFollowUpWorkers
	}
	if c.MaxFollowUps == 0 {
		c.MaxFollowUps = DefaultMaxFollowUps
	}
	if c.MaxVoidsPerHour == 0 {
		c.MaxVoidsPerHour = DefaultMaxVoidsPerHour
	}
	if len(c.NotifySchedule) == 0 {
		c.NotifySchedule = DefaultNotifySchedule
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Wallets) == 0 {
		errs = append(errs, errors.New("engine: config: no wallets"))
	}
	for name, w := range c.Wallets {
		if name == "" || w == nil {
			errs = append(errs, fmt.Errorf("engine: config: wallet %q is empty", name))
		}
	}
	if c.Identifier == nil {
		errs = append(errs, errors.New("engine: config: no identifier"))
	}
	if c.Journal == nil {
		errs = append(errs, errors.New("engine: config: no journal (engine/journal.NewMem for one in memory)"))
	}
	if c.Node < 0 || c.Node > 99 {
		errs = append(errs, errors.New("engine: config: node must be 0..99"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"pay timeout", c.PayTimeout}, {"wallet call timeout", c.WalletCallTimeout},
		{"follow-up deadline", c.FollowUpDeadline}, {"cancel window", c.CancelWindow},
		{"refund window", c.RefundWindow}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("engine: config: %s is negative", d.name))
		}
	}
	for _, d := range c.PollSchedule {
		if d <= 0 {
			errs = append(errs, errors.New("engine: config: poll schedule steps must be positive"))
			break
		}
	}
	if c.Failpoint != nil && !FailpointsEnabled {
		errs = append(errs, errors.New("engine: config: a failpoint is set but this binary has none (build with -tags failpoints)"))
	}
	if c.FollowUpWorkers < 0 || c.MaxFollowUps < 0 {
		errs = append(errs, errors.New("engine: config: negative follow-up limits"))
	}
	if c.MaxVoidsPerHour < 0 {
		errs = append(errs, fmt.Errorf("engine: config: max voids per hour is negative (%d)", c.MaxVoidsPerHour))
	}
	return errors.Join(errs...)
}

// String prints the configuration (it holds no secrets).
func (c *Config) String() string {
	var b strings.Builder
	names := make([]string, 0, len(c.Wallets))
	for n := range c.Wallets {
		names = append(names, n)
	}
	fmt.Fprintf(&b, "wallets=%v node=%02d pay_timeout=%s wallet_call_timeout=%s follow_up_deadline=%s poll=%v cancel_window=%s refund_window=%s follow_up_workers=%d max_follow_ups=%d max_voids_per_hour=%d",
		names, c.Node, c.PayTimeout, c.WalletCallTimeout, c.FollowUpDeadline, c.PollSchedule,
		c.CancelWindow, c.RefundWindow, c.FollowUpWorkers, c.MaxFollowUps, c.MaxVoidsPerHour)
	return b.String()
}
