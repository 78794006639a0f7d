package load

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/paycode/paycode/loadtest/mppsim"
)

// Defaults of a Scenario's zero fields, exported so docs and tools can name
// them.
const (
	DefaultClientID     = "LOADTEST"
	DefaultCurrency     = "HKD"
	DefaultLanes        = 100
	DefaultAmountMin    = 100   // minor units
	DefaultAmountMax    = 50000 // minor units
	DefaultPollEvery    = 3 * time.Second
	DefaultPolls        = 3
	DefaultCancelAfter  = time.Second
	DefaultRefundAfter  = 2 * time.Second
	DefaultReplayAfter  = 100 * time.Millisecond
	DefaultWorkers      = 32
	DefaultMaxWorkers   = 1024
	DefaultConnections  = 256
	DefaultMaxConns     = 1024
	DefaultTimeout      = 30 * time.Second
	DefaultDrain        = 30 * time.Second
	MaxStageRate        = 1_000_000
	maxAmount           = 1_000_000_000_000
	routingPrefixDigits = 6
)

// ErrScenario is the sentinel every scenario error wraps.
var ErrScenario = errors.New("load: scenario")

// Scenario describes a load run: who sends what, how fast, for how long.
// The YAML field names are the lower-camel names in the tags; every field
// but Stages is optional. See testdata/scenarios/ for documented examples.
type Scenario struct {
	Name string `yaml:"name"`
	// Seed makes the run's random choices reproducible.
	Seed uint64 `yaml:"seed"`
	// Lanes is the number of checkout lanes; each request names one as
	// its storeTerminalId. Rates are for the whole store, not per lane.
	Lanes    int    `yaml:"lanes"`
	ClientID string `yaml:"clientId"`
	Currency string `yaml:"currency"`
	Amount   struct {
		Min int64 `yaml:"min"`
		Max int64 `yaml:"max"`
	} `yaml:"amount"`
	// Stages run one after another; Rate is every request the tool sends
	// (pays and follow-ups together), per second.
	Stages []Stage `yaml:"stages"`
	// Wallets weights routing prefixes (6 digits, quoted in YAML).
	// Default: the four simulated wallets, equally.
	Wallets map[string]float64 `yaml:"wallets"`
	// Outcomes weights the README's test-code rows by name (success,
	// password, password_fail, balance, limit, lost_response,
	// system_error, invalid_code, risk). Default: each row weighted by
	// how many last-two values it has (success 80 %, …).
	Outcomes map[string]float64 `yaml:"outcomes"`
	// Invalid is the share (0–1) of new pays that carry a code paycode
	// must refuse: unknown prefix, malformed, or one already used.
	Invalid float64 `yaml:"invalid"`
	// Image is the share (0–1) of new pays sent by image: multipart with
	// the pay JSON (no paymentMethodId) and a PNG of the code as a QR
	// code, which paycode decodes. The target needs its image decoder on
	// (the embedded stack has it).
	Image    float64  `yaml:"image"`
	FollowUp FollowUp `yaml:"followUp"`
	Limits   Limits   `yaml:"limits"`
	// Drain bounds the wait after the last request for follow-ups to
	// settle before the correctness check gives its verdict.
	Drain time.Duration `yaml:"drain"`
	// Budgets are checked after the run, like -budget (both apply).
	Budgets []string `yaml:"budgets"`
}

// Stage is one step of the arrival rate: Rate requests/s for Duration, or
// a linear ramp from Rate to To when To is set.
type Stage struct {
	Name     string        `yaml:"name"`
	Duration time.Duration `yaml:"duration"`
	Rate     float64       `yaml:"rate"`
	To       *float64      `yaml:"to"`
}

// End is the stage's rate at its end.
func (s Stage) End() float64 {
	if s.To != nil {
		return *s.To
	}
	return s.Rate
}

// FollowUp is the lanes' traffic after a pay answer. Shares are 0–1 of
// pays; a payment gets at most one of cancel, refund and replay.
type FollowUp struct {
	// Poll is the share of lanes that poll inquiryPayment after a U
	// (PAYMENT_IN_PROCESS) answer: Polls inquiries, PollEvery apart.
	Poll      float64       `yaml:"poll"`
	PollEvery time.Duration `yaml:"pollEvery"`
	Polls     int           `yaml:"polls"`
	// Cancel is the share of payments the lane cancels CancelAfter after
	// the pay answer.
	Cancel      float64       `yaml:"cancel"`
	CancelAfter time.Duration `yaml:"cancelAfter"`
	// Refund is the share of payments refunded in part (half the amount)
	// RefundAfter after a SUCCESS answer.
	Refund      float64       `yaml:"refund"`
	RefundAfter time.Duration `yaml:"refundAfter"`
	// Replay is the share of pays sent again, same paymentRequestId and
	// body, ReplayAfter after the first was sent (a lane retrying).
	Replay      float64       `yaml:"replay"`
	ReplayAfter time.Duration `yaml:"replayAfter"`
}

// Limits caps the generator. Open loop means the generator (Sender, or
// vegeta's Attacker) adds workers when all are busy; without a cap, a stalled server makes it open thousands of
// connections and run out of local ports, so both are capped.
type Limits struct {
	Workers        uint64        `yaml:"workers"`
	MaxWorkers     uint64        `yaml:"maxWorkers"`
	Connections    int           `yaml:"connections"`    // idle connections kept per host (-nethttp only)
	MaxConnections int           `yaml:"maxConnections"` // connections per host
	Timeout        time.Duration `yaml:"timeout"`        // per request
}

//go:embed demo.yaml
var demoYAML []byte

// DemoScenario is the scenario `paycode demo` runs: 20 s of a peak hour
// in miniature (ramp-up, peak, cool-down; every outcome row, follow-ups,
// invalid codes and replays) at rates two cores hold with paycode, the
// wallets and the generator in one process.
func DemoScenario() *Scenario {
	s, err := ParseScenario(demoYAML)
	if err != nil {
		panic(err) // demo.yaml is tested
	}
	return s
}

// ParseScenario reads a YAML (or JSON) scenario, fills defaults and
// validates it. Unknown fields are errors.
func ParseScenario(b []byte) (*Scenario, error) {
	s := &Scenario{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	s.EnsureDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// ReadScenario is ParseScenario of a file.
func ReadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	s, err := ParseScenario(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// DefaultWallets are the routing prefixes of the embedded simulated
// wallets (stack.DefaultSimWallets), one per wallet.
func DefaultWallets() map[string]float64 {
	return map[string]float64{"281001": 1, "281003": 1, "281010": 1, "281011": 1}
}

// TableOutcomes weights each test-code row by the number of last-two
// values it owns, i.e. uniform last two digits.
func TableOutcomes() map[string]float64 {
	m := map[string]float64{}
	for _, o := range mppsim.Outcomes() {
		lo, hi := o.Range()
		m[o.String()] = float64(hi - lo + 1)
	}
	return m
}

// EnsureDefaults fills the zero fields.
func (s *Scenario) EnsureDefaults() {
	if s.Name == "" {
		s.Name = "load"
	}
	if s.Lanes == 0 {
		s.Lanes = DefaultLanes
	}
	if s.ClientID == "" {
		s.ClientID = DefaultClientID
	}
	if s.Currency == "" {
		s.Currency = DefaultCurrency
	}
	if s.Amount.Min == 0 && s.Amount.Max == 0 {
		s.Amount.Min, s.Amount.Max = DefaultAmountMin, DefaultAmountMax
	}
	if len(s.Wallets) == 0 {
		s.Wallets = DefaultWallets()
	}
	if len(s.Outcomes) == 0 {
		s.Outcomes = TableOutcomes()
	}
	f := &s.FollowUp
	if f.PollEvery == 0 {
		f.PollEvery = DefaultPollEvery
	}
	if f.Polls == 0 {
		f.Polls = DefaultPolls
	}
	if f.CancelAfter == 0 {
		f.CancelAfter = DefaultCancelAfter
	}
	if f.RefundAfter == 0 {
		f.RefundAfter = DefaultRefundAfter
	}
	if f.ReplayAfter == 0 {
		f.ReplayAfter = DefaultReplayAfter
	}
	l := &s.Limits
	if l.Workers == 0 {
		l.Workers = DefaultWorkers
	}
	if l.MaxWorkers == 0 {
		l.MaxWorkers = DefaultMaxWorkers
	}
	if l.Connections == 0 {
		l.Connections = DefaultConnections
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = DefaultMaxConns
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultTimeout
	}
	if s.Drain == 0 {
		s.Drain = DefaultDrain
	}
}

// Validate reports every problem at once, each naming its field.
func (s *Scenario) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrScenario, field, fmt.Sprintf(format, args...)))
	}
	if len(s.Stages) == 0 {
		bad("stages", "at least one stage is required")
	}
	for i, st := range s.Stages {
		f := fmt.Sprintf("stages[%d]", i)
		if st.Name != "" {
			f += " (" + st.Name + ")"
		}
		if st.Duration <= 0 {
			bad(f+".duration", "must be positive, e.g. 10s")
		}
		if st.Rate < 0 || st.Rate > MaxStageRate || st.End() < 0 || st.End() > MaxStageRate {
			bad(f+".rate", "must be within 0..%d requests/s", MaxStageRate)
		}
		if st.Rate == 0 && st.End() == 0 {
			bad(f+".rate", "a stage must send something (rate or to above 0)")
		}
	}
	if s.Lanes < 1 || s.Lanes > 9999 {
		bad("lanes", "must be 1..9999")
	}
	if len(s.ClientID) > 128 || strings.ContainsAny(s.ClientID, "\r\n\x00") {
		bad("clientId", "at most 128 bytes, no control characters")
	}
	if len(s.Currency) != 3 {
		bad("currency", "an ISO 4217 code such as HKD")
	}
	if s.Amount.Min < 1 || s.Amount.Max < s.Amount.Min || s.Amount.Max > maxAmount {
		bad("amount", "need 1 <= min <= max <= %d (minor units)", int64(maxAmount))
	}
	for p, w := range s.Wallets {
		if len(p) != routingPrefixDigits || strings.Trim(p, "0123456789") != "" {
			bad("wallets", "%q is not a 6-digit routing prefix", p)
		}
		if w < 0 {
			bad("wallets", "%s: negative weight", p)
		}
	}
	if sumWeights(s.Wallets) <= 0 {
		bad("wallets", "weights must add up to more than 0")
	}
	names := map[string]bool{}
	for _, o := range mppsim.Outcomes() {
		names[o.String()] = true
	}
	for n, w := range s.Outcomes {
		if !names[n] {
			known := make([]string, 0, len(names))
			for k := range names {
				known = append(known, k)
			}
			slices.Sort(known)
			bad("outcomes", "unknown outcome %q (known: %s)", n, strings.Join(known, ", "))
		}
		if w < 0 {
			bad("outcomes", "%s: negative weight", n)
		}
	}
	if sumWeights(s.Outcomes) <= 0 {
		bad("outcomes", "weights must add up to more than 0")
	}
	share := func(field string, v float64) {
		if v < 0 || v > 1 {
			bad(field, "a share must be within 0..1, got %g", v)
		}
	}
	share("invalid", s.Invalid)
	share("image", s.Image)
	f := s.FollowUp
	share("followUp.poll", f.Poll)
	share("followUp.cancel", f.Cancel)
	share("followUp.refund", f.Refund)
	share("followUp.replay", f.Replay)
	if f.Cancel+f.Refund+f.Replay > 1 {
		bad("followUp", "cancel + refund + replay must not exceed 1 (a payment gets at most one)")
	}
	if f.PollEvery <= 0 || f.CancelAfter < 0 || f.RefundAfter < 0 || f.ReplayAfter < 0 {
		bad("followUp", "delays must not be negative (pollEvery positive)")
	}
	if f.Polls < 0 || f.Polls > 100 {
		bad("followUp.polls", "must be 0..100")
	}
	l := s.Limits
	if l.Workers < 1 || l.MaxWorkers < l.Workers {
		bad("limits", "need 1 <= workers <= maxWorkers")
	}
	if l.Connections < 1 || l.MaxConnections < 0 || (l.MaxConnections > 0 && l.MaxConnections < l.Connections) {
		bad("limits", "need 1 <= connections <= maxConnections (0 = no cap is refused by EnsureDefaults)")
	}
	if l.Timeout <= 0 {
		bad("limits.timeout", "must be positive")
	}
	if s.Drain < 0 {
		bad("drain", "must not be negative")
	}
	for _, b := range s.Budgets {
		if _, err := ParseBudgets(b); err != nil {
			errs = append(errs, fmt.Errorf("%w: budgets: %w", ErrScenario, err))
		}
	}
	return errors.Join(errs...)
}

// Duration is the sum of the stages' durations.
func (s *Scenario) Duration() time.Duration {
	var d time.Duration
	for _, st := range s.Stages {
		d += st.Duration
	}
	return d
}

// Requests is the number of requests the stages ask for.
func (s *Scenario) Requests() float64 {
	var n float64
	for _, st := range s.Stages {
		n += (st.Rate + st.End()) / 2 * st.Duration.Seconds()
	}
	return n
}

// ScaleTo rescales the stages so they last d in total, keeping their
// proportions (for -duration).
func (s *Scenario) ScaleTo(d time.Duration) {
	total := s.Duration()
	if d <= 0 || total <= 0 {
		return
	}
	var sum time.Duration
	for i := range s.Stages {
		st := &s.Stages[i]
		st.Duration = time.Duration(float64(st.Duration) * float64(d) / float64(total)).Round(time.Millisecond)
		if i == len(s.Stages)-1 {
			st.Duration = max(d-sum, time.Millisecond) // the stages add up to d exactly
		}
		sum += st.Duration
	}
}

// ScaleRate multiplies every stage's rates by f (for -rate-scale).
func (s *Scenario) ScaleRate(f float64) {
	for i := range s.Stages {
		s.Stages[i].Rate *= f
		if s.Stages[i].To != nil {
			v := *s.Stages[i].To * f
			s.Stages[i].To = &v
		}
	}
}

// String prints the scenario on one line, for logs and reports.
func (s *Scenario) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: seed %d, %d lanes, %s", s.Name, s.Seed, s.Lanes, s.Duration())
	for _, st := range s.Stages {
		fmt.Fprintf(&b, " | %s %s %.4g/s", st.Name, st.Duration, st.Rate)
		if st.To != nil {
			fmt.Fprintf(&b, "→%.4g/s", *st.To)
		}
	}
	return b.String()
}

func sumWeights(m map[string]float64) float64 {
	var t float64
	for _, w := range m {
		if w > 0 {
			t += w
		}
	}
	return t
}
