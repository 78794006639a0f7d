package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/peterbourgon/ff/v3"
	"go.yaml.in/yaml/v3"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/admin"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/ident"
	"github.com/paycode/paycode/engine/journal/postgres"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/engine/notify"
	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/engine/sign"
)

// serveConfig is paycode serve's configuration: one YAML file (-config),
// every setting also a flag and a PAYCODE_… environment variable, their
// names derived from the YAML path (settingsOf): engine.payTimeout is the
// flag -engine.pay-timeout and the variable PAYCODE_ENGINE_PAY_TIMEOUT.
// Precedence: flag, then environment, then file, then default.
// testdata/paycode.example.yaml documents every setting with its default.
type serveConfig struct {
	Listen string `yaml:"listen"`
	Admin  string `yaml:"admin"`
	// Sim runs the embedded simulated wallets instead of Wallets: for
	// trying paycode on one machine, never for real money. It is on by
	// itself when serve has no config file and no wallets (simulated).
	Sim bool `yaml:"sim"`
	// AdminToken (a secret) and AdminAllow guard the admin endpoints that
	// change state (admin.Auth); without either they are refused.
	AdminToken string   `yaml:"adminToken"`
	AdminAllow []string `yaml:"adminAllow"`
	Data       string   `yaml:"data"`
	Memory     bool     `yaml:"memory"`
	// Journal: empty is the Pebble journal under Data; a postgres:// URL
	// the shared PostgreSQL journal (server.OpenJournal). Its password is a secret.
	Journal  string        `yaml:"journal"`
	Node     int           `yaml:"node"`
	LeaseTTL time.Duration `yaml:"leaseTTL"`
	// SyncWindow is the Pebble journal's least time between WAL fsyncs
	// (journal.Options.WALMinSyncInterval); negative: none.
	SyncWindow time.Duration `yaml:"syncWindow"`
	Log        struct {
		Format string `yaml:"format"`
		Level  string `yaml:"level"`
	} `yaml:"log"`
	Shutdown struct {
		DrainTimeout time.Duration `yaml:"drainTimeout"`
	} `yaml:"shutdown"`
	Engine struct {
		PayTimeout        time.Duration   `yaml:"payTimeout"`
		WalletCallTimeout time.Duration   `yaml:"walletCallTimeout"`
		FollowUpDeadline  time.Duration   `yaml:"followUpDeadline"`
		CancelWindow      time.Duration   `yaml:"cancelWindow"`
		RefundWindow      time.Duration   `yaml:"refundWindow"`
		FollowUpWorkers   int             `yaml:"followUpWorkers"`
		MaxFollowUps      int             `yaml:"maxFollowUps"`
		MaxVoidsPerHour   int             `yaml:"maxVoidsPerHour"`
		PollSchedule      []time.Duration `yaml:"pollSchedule"`
		NotifySchedule    []time.Duration `yaml:"notifySchedule"`
		Retention         time.Duration   `yaml:"retention"`
		AsyncOutcomes     bool            `yaml:"asyncOutcomes"`
		LeaseCheck        time.Duration   `yaml:"leaseCheck"`
	} `yaml:"engine"`
	Identification struct {
		RulesFile     string        `yaml:"rulesFile"`
		ServiceURL    string        `yaml:"serviceURL"`
		TTL           time.Duration `yaml:"ttl"`
		NegativeTTL   time.Duration `yaml:"negativeTTL"`
		RefreshAhead  time.Duration `yaml:"refreshAhead"`
		SourceTimeout time.Duration `yaml:"sourceTimeout"`
		MaxEntries    int64         `yaml:"maxEntries"`
		MaxConns      int           `yaml:"maxConns"`
	} `yaml:"identification"`
	// Wallets to connect to (required unless Sim).
	Wallets []server.WalletConfig `yaml:"wallets"`
	// Keys: signatures, lane clients, TLS (security.go). Absent: every
	// client id is trusted, allowed on loopback only.
	Keys *keysConfig `yaml:"keys"`
	// Notify: where notifications may go, and the delivery limits.
	Notify notify.Config `yaml:"notify"`
	Limits struct {
		// MaxAmount by currency code, in minor units (codec.AmountLimits).
		MaxAmount map[string]int64 `yaml:"maxAmount"`
	} `yaml:"limits"`

	// configFile is the file the settings were read from, "" for none.
	configFile string
}

// simulated reports whether serve runs the simulated wallets: asked for
// with sim, or the embedded default (no config file, no wallets).
func (c *serveConfig) simulated() bool {
	return c.Sim || (c.configFile == "" && len(c.Wallets) == 0)
}

// settle fills what follows from where the settings came from: the
// file's path, and sim when it is on by default.
func (c *serveConfig) settle(path string) {
	c.configFile = path
	c.Sim = c.simulated()
	c.ensureDefaults()
}

// Defaults of the settings that engine, ident and httpapi do not define.
const (
	DefaultListen       = "127.0.0.1:8080"
	DefaultAdmin        = "127.0.0.1:9090"
	DefaultData         = "paycode-data"
	DefaultDrainTimeout = 10 * time.Second
)

// settingHelp is every setting's flag usage, by YAML path. A setting
// without one is a test failure (config_test.go).
var settingHelp = map[string]string{
	"listen":                       "lane API address (host:port)",
	"admin":                        "admin address: health, metrics, reload, pprof; empty disables it",
	"sim":                          "run the embedded simulated wallets (they approve test codes and charge nobody): loopback only, never for real money; on by default without -config and wallets",
	"adminToken":                   "token (16+ characters) that POST /admin/reload must send as Authorization: Bearer TOKEN",
	"adminAllow":                   "addresses or CIDRs allowed to POST /admin/reload without the token (YAML list: [10.0.0.5, 10.1.0.0/16])",
	"data":                         "directory of the Pebble journal; created if missing",
	"memory":                       "keep payments in memory only (the in-memory journal; a restart forgets them): for experiments, never for real money",
	"journal":                      "journal: empty for Pebble under data, or a postgres:// URL for the shared PostgreSQL journal",
	"node":                         "node number 0-99, in payment ids (unique per node sharing a journal)",
	"leaseTTL":                     "shared journal: how long a node's payments stay leased without renewal",
	"syncWindow":                   "Pebble journal: least time between WAL fsyncs, so more appends share one (negative: sync as soon as the last one is done)",
	"log.format":                   "log format: json, text, or auto (text on a terminal, else JSON)",
	"log.level":                    "log level: debug, info, warn or error",
	"shutdown.drainTimeout":        "on SIGTERM, how long requests in flight may take to finish",
	"engine.payTimeout":            "bound of a pay answer; later the payment stays PROCESSING and is followed up",
	"engine.walletCallTimeout":     "bound of each follow-up call to a wallet",
	"engine.followUpDeadline":      "how long an unresolved payment is polled before it is cancelled",
	"engine.cancelWindow":          "how long after success a payment may be cancelled",
	"engine.refundWindow":          "how long after success refunds are accepted",
	"engine.followUpWorkers":       "concurrent follow-up wallet calls",
	"engine.maxFollowUps":          "follow-up queue bound; past it new pays are refused",
	"engine.maxVoidsPerHour":       "cancel-before-pay tombstones one client may record per hour on this node (client ids no lane key lists share one budget); past it such cancels are refused (U)",
	"engine.pollSchedule":          "waits before each follow-up inquiry (comma-separated durations; the last repeats)",
	"engine.notifySchedule":        "waits before each notification attempt (comma-separated durations)",
	"engine.retention":             "how long final payments are kept (idempotency, single use); at least 31 days",
	"engine.asyncOutcomes":         "answer a wallet's success before its journal write is synced (synced within the next fsync; false: wait for it; see docs/design.md)",
	"engine.leaseCheck":            "shared journal: how often a node renews its leases, picks up handed-over cancels and takes over dead nodes' work",
	"identification.rulesFile":     "routing rules file (YAML); empty: the built-in rules",
	"identification.serviceURL":    "remote identification service URL (exclusive with rulesFile)",
	"identification.ttl":           "how long a route is cached",
	"identification.negativeTTL":   "how long 'no route' is cached",
	"identification.refreshAhead":  "refresh a cached route this long before it expires (0: ttl/5, negative: never)",
	"identification.sourceTimeout": "bound of one ask of the rules source",
	"identification.maxEntries":    "identification cache bound",
	"identification.maxConns":      "connections to the identification service",
	"wallets":                      "wallets, as a YAML list (see the example file); required unless sim",
	"keys.privateKeyFile":          "paycode's private key file (signs answers, notifications, wallet requests)",
	"keys.privateKey":              "paycode's private key inline (base64 or PEM): prefer privateKeyFile",
	"keys.keyVersion":              "keyVersion of paycode's key in signatures",
	"keys.window":                  "how far a request-time may be from now",
	"keys.maxInFlight":             "lane requests served at once; more are shed",
	"keys.followUpReserve":         "of maxInFlight, slots only follow-up requests may use (0: maxInFlight/8, negative: none)",
	"keys.payDelayTarget":          "shed new pays while the median pay waits in paycode longer than this (negative: off)",
	"keys.payDelayInterval":        "how often the adaptive pay limit moves (payDelayTarget)",
	"keys.imageBodyBudget":         "image body bytes (decode, pay by image) being read or held, all lane connections together; more are shed",
	"keys.defaultPolicy":           "policy of client ids not listed: empty refuses them, none trusts them",
	"keys.clients":                 "lane clients, as a YAML list (see the example file)",
	"keys.allowNone":               "allow unsigned (policy none) client ids on a non-loopback lane listener",
	"keys.tlsCert":                 "TLS certificate (PEM) of the lane listener",
	"keys.tlsKey":                  "TLS private key (PEM) for tlsCert",
	"keys.clientCA":                "CA certificates (PEM): require lane client certificates (mTLS)",
	"notify.timeout":               "bound of one notification delivery",
	"notify.dialTimeout":           "bound of connecting to a merchant's notify endpoint",
	"notify.maxConnsPerHost":       "connections to one merchant host",
	"notify.maxInFlight":           "notification deliveries under way at once, all merchants together",
	"notify.allowHTTP":             "accept http:// notify URLs (otherwise https only)",
	"notify.allow":                 "notify destinations allowed although refused by default (loopback, private, link-local): hosts, addresses, CIDRs",
	"notify.clients":               "per client id, more allowed notify destinations (YAML map of lists)",
	"limits.maxAmount":             "largest amount per currency, in minor units (YAML map); default 999999999999 for every currency",
}

// legacyFlags are the flags paycode serve had before the config file
// covered everything; they set the same settings.
var legacyFlags = map[string]string{
	"tls-cert":   "keys.tlsCert",
	"tls-key":    "keys.tlsKey",
	"client-ca":  "keys.clientCA",
	"allow-none": "keys.allowNone",
}

// envPrefix prefixes every setting's environment variable.
const envPrefix = "PAYCODE"

// newServeConfig returns the defaults.
func newServeConfig() *serveConfig {
	c := &serveConfig{Listen: DefaultListen, Admin: DefaultAdmin, Data: DefaultData}
	// A wallet's success is written without waiting for its fsync (it is
	// synced within the next one; docs/design.md, "Durability").
	c.Engine.AsyncOutcomes = true
	c.ensureDefaults()
	return c
}

// ensureDefaults fills the zero settings whose zero means "the default",
// so that `config print` shows what runs. Listen, admin and data are
// filled only by newServeConfig: an empty admin disables it.
func (c *serveConfig) ensureDefaults() {
	orDefault(&c.LeaseTTL, postgres.DefaultLeaseTTL)
	orDefault(&c.SyncWindow, server.DefaultSyncWindow)
	orDefault(&c.Shutdown.DrainTimeout, DefaultDrainTimeout)
	orDefault(&c.Log.Format, "auto")
	orDefault(&c.Log.Level, "info")
	e := &c.Engine
	orDefault(&e.PayTimeout, engine.DefaultPayTimeout)
	orDefault(&e.WalletCallTimeout, engine.DefaultWalletCallTimeout)
	orDefault(&e.FollowUpDeadline, engine.DefaultFollowUpDeadline)
	orDefault(&e.CancelWindow, engine.DefaultCancelWindow)
	orDefault(&e.RefundWindow, engine.DefaultRefundWindow)
	orDefault(&e.Retention, engine.DefaultRetention)
	orDefault(&e.LeaseCheck, engine.DefaultLeaseCheck)
	orDefault(&e.FollowUpWorkers, engine.DefaultFollowUpWorkers)
	orDefault(&e.MaxFollowUps, engine.DefaultMaxFollowUps)
	orDefault(&e.MaxVoidsPerHour, engine.DefaultMaxVoidsPerHour)
	if len(e.PollSchedule) == 0 {
		e.PollSchedule = append([]time.Duration(nil), engine.DefaultPollSchedule...)
	}
	if len(e.NotifySchedule) == 0 {
		e.NotifySchedule = append([]time.Duration(nil), engine.DefaultNotifySchedule...)
	}
	id := &c.Identification
	orDefault(&id.TTL, ident.DefaultTTL)
	orDefault(&id.NegativeTTL, ident.DefaultNegativeTTL)
	orDefault(&id.SourceTimeout, ident.DefaultSourceTimeout)
	orDefault(&id.MaxEntries, ident.DefaultMaxEntries)
	orDefault(&id.MaxConns, ident.DefaultMaxConns)
	n := &c.Notify
	orDefault(&n.Timeout, notify.DefaultTimeout)
	orDefault(&n.DialTimeout, notify.DefaultDialTimeout)
	orDefault(&n.MaxConnsPerHost, notify.DefaultMaxConnsPerHost)
	orDefault(&n.MaxInFlight, notify.DefaultMaxInFlight)
	if k := c.Keys; k != nil {
		orDefault(&k.Window, sign.DefaultWindow)
		orDefault(&k.MaxInFlight, httpapi.DefaultMaxInFlight)
		orDefault(&k.PayDelayTarget, httpapi.DefaultPayDelayTarget)
		orDefault(&k.PayDelayInterval, httpapi.DefaultPayDelayInterval)
		orDefault(&k.ImageBodyBudget, httpapi.DefaultImageBodyBudget)
	}
}

// orDefault sets *v to d when *v is its zero value, which for these
// settings means "the default".
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// loadServeConfig reads a config file over the defaults (no flags, no
// environment): `config check` and tests.
// The error is fatal (no configuration) or *fileProblems (c has what
// the file's readable settings say).
func loadServeConfig(path string) (*serveConfig, error) {
	c := newServeConfig()
	var problems error
	if path != "" {
		if problems = readConfigFile(path, c); problems != nil && !isFileProblems(problems) {
			return nil, problems
		}
	}
	c.settle(path)
	return c, problems
}

// parseServeConfig builds the configuration from args, the environment
// and the file they name (-config or PAYCODE_CONFIG), in that precedence.
// Parsing runs twice: once to find the file, then over the file's values,
// so flags and variables win over it. -h prints usage (the command's
// synopsis) and every flag with its default to out and returns an error
// wrapping flag.ErrHelp; a bad flag is returned as an error of one line.
// Problems of the file's settings (unknown keys, bad values) come as a
// *fileProblems with the configuration read from the rest, so that the
// caller reports them together with Validate's.
func parseServeConfig(name string, args []string, out io.Writer, usage string) (c *serveConfig, path string, err error) {
	parse := func(c *serveConfig) (*flag.FlagSet, string, error) {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		fs.SetOutput(io.Discard) // one line for a bad flag, printed by the caller
		fs.Usage = func() {}
		var path string
		fs.StringVar(&path, "config", "", "config file (YAML); without one (and without wallets) serve runs the simulated wallets")
		registerSettings(fs, c)
		err := ff.Parse(fs, args, ff.WithEnvVarPrefix(envPrefix))
		if err != nil && strings.HasPrefix(err.Error(), "error parsing commandline arguments: ") {
			err = errors.Unwrap(err) // the flag package's own message names the flag
		}
		return fs, path, err
	}
	fs, path, err := parse(newServeConfig())
	if flagsParsed != nil {
		flagsParsed(name, err)
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(out, usage)
		printSettings(out, fs)
		return nil, "", err
	}
	if err != nil {
		return nil, "", err
	}
	c = newServeConfig()
	var problems error
	if path != "" {
		if problems = readConfigFile(path, c); problems != nil && !isFileProblems(problems) {
			return nil, path, problems
		}
	}
	if _, _, err := parse(c); err != nil {
		return nil, path, err
	}
	c.settle(path)
	return c, path, problems
}

// printSettings prints serve's flags, one a line, with their type and
// default: -config first, then every setting in the config file's order,
// then the older aliases.
func printSettings(w io.Writer, fs *flag.FlagSet) {
	d := newServeConfig()
	d.Keys = &keysConfig{}
	d.ensureDefaults()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(flagName, typ, help, def string) {
		if def != "" && def != "false" {
			help += " (default " + def + ")"
		}
		fmt.Fprintf(tw, "  -%s %s\t%s\n", flagName, typ, help)
	}
	line("config", "FILE", fs.Lookup("config").Usage, "")
	aliases := map[string]string{}
	for alias, path := range legacyFlags {
		aliases[path] = alias
	}
	for _, s := range settingsOf() {
		if s.Elem {
			continue
		}
		help := settingHelp[s.Path]
		if a := aliases[s.Path]; a != "" {
			help += "; also -" + a
		}
		line(s.Flag, typeName(s.typ), help, (&settingValue{cfg: d, s: s}).String())
	}
	tw.Flush()
}

// typeName names a setting's type in usage.
func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Slice && t.Elem() == durationType:
		return "durations"
	case t.Kind() == reflect.Bool:
		return ""
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "int"
	}
	return "yaml"
}

// setting is one leaf of serveConfig.
type setting struct {
	Path string // YAML path: engine.payTimeout
	Flag string // engine.pay-timeout
	Env  string // PAYCODE_ENGINE_PAY_TIMEOUT
	// Elem: a field of a list element (wallets[].url): set through its
	// list, not a flag of its own.
	Elem  bool
	index []int
	typ   reflect.Type
}

// settingsOf lists every setting of serveConfig, in declaration order,
// with its flag and variable names. Structs (and pointers to them) are
// sections; everything else is a setting. The fields of list elements are
// listed with Elem set.
func settingsOf() []setting {
	var out []setting
	var walk func(t reflect.Type, prefix string, index []int, elem bool)
	walk = func(t reflect.Type, prefix string, index []int, elem bool) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			path := prefix + name
			idx := append(append([]int(nil), index...), i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				walk(ft, path+".", idx, elem)
				continue
			}
			out = append(out, setting{Path: path, Flag: flagName(path), Env: envName(flagName(path)), Elem: elem, index: idx, typ: f.Type})
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				walk(ft.Elem(), path+"[].", nil, true)
			}
		}
	}
	walk(reflect.TypeFor[serveConfig](), "", nil, false)
	return out
}

// flagName derives a flag from a YAML path: each segment's camelCase
// becomes kebab-case (serviceURL: service-url).
func flagName(path string) string {
	segs := strings.Split(path, ".")
	for i, s := range segs {
		segs[i] = kebab(s)
	}
	return strings.Join(segs, ".")
}

func kebab(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) {
			prevLower := i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]))
			acronymEnd := i > 0 && unicode.IsUpper(r[i-1]) && i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || acronymEnd {
				b.WriteByte('-')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// envName is ff's variable for a flag: PAYCODE_, upper case, - and . as _.
func envName(flag string) string {
	return envPrefix + "_" + strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToUpper(flag))
}

// registerSettings defines a flag per setting (and the legacy aliases)
// bound to c.
func registerSettings(fs *flag.FlagSet, c *serveConfig) {
	byPath := map[string]setting{}
	for _, s := range settingsOf() {
		if s.Elem {
			continue
		}
		byPath[s.Path] = s
		fs.Var(&settingValue{cfg: c, s: s}, s.Flag, settingHelp[s.Path]+" (file: "+s.Path+", env: "+s.Env+")")
	}
	for alias, path := range legacyFlags {
		s := byPath[path]
		fs.Var(&settingValue{cfg: c, s: s}, alias, "same as -"+s.Flag)
	}
}

// settingValue is the flag.Value of one setting of cfg. Setting a field
// under an absent section (keys) creates the section.
type settingValue struct {
	cfg *serveConfig
	s   setting
}

var durationType = reflect.TypeFor[time.Duration]()

// field returns the setting's field; ok is false when it lies under an
// absent section and alloc is false.
func (v *settingValue) field(alloc bool) (reflect.Value, bool) {
	rv := reflect.ValueOf(v.cfg).Elem()
	for i, x := range v.s.index {
		if i > 0 && rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				if !alloc {
					return reflect.Value{}, false
				}
				rv.Set(reflect.New(rv.Type().Elem()))
			}
			rv = rv.Elem()
		}
		rv = rv.Field(x)
	}
	return rv, true
}

func (v *settingValue) String() string {
	if v == nil || v.cfg == nil {
		return ""
	}
	f, ok := v.field(false)
	if !ok {
		return ""
	}
	return formatValue(f)
}

func (v *settingValue) Set(s string) error {
	f, _ := v.field(true)
	return parseValue(f, s)
}

// IsBoolFlag lets a boolean setting be given as -memory.
func (v *settingValue) IsBoolFlag() bool { return v.s.typ != nil && v.s.typ.Kind() == reflect.Bool }

// formatValue prints a setting as its flag would take it.
func formatValue(f reflect.Value) string {
	switch {
	case f.Type() == durationType:
		return time.Duration(f.Int()).String()
	case f.Kind() == reflect.Slice && f.Type().Elem() == durationType:
		parts := make([]string, f.Len())
		for i := range parts {
			parts[i] = time.Duration(f.Index(i).Int()).String()
		}
		return strings.Join(parts, ",")
	case f.Kind() == reflect.String:
		return f.String()
	case f.Kind() == reflect.Bool:
		return strconv.FormatBool(f.Bool())
	case f.CanInt():
		return strconv.FormatInt(f.Int(), 10)
	}
	if f.Len() == 0 {
		return ""
	}
	var n yaml.Node
	if err := n.Encode(f.Interface()); err != nil {
		return err.Error()
	}
	flow(&n)
	b, _ := yaml.Marshal(&n)
	return strings.TrimSpace(string(b))
}

// flow makes a YAML node print on one line.
func flow(n *yaml.Node) {
	n.Style |= yaml.FlowStyle
	for _, c := range n.Content {
		flow(c)
	}
}

// parseValue sets a setting from its flag or variable text: durations as
// Go durations, duration lists comma-separated (or a YAML list), lists of
// sections as YAML (flow style fits one line: [{name: a, url: "…"}]).
func parseValue(f reflect.Value, s string) error {
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	case f.Kind() == reflect.Slice && f.Type().Elem() == durationType && !strings.HasPrefix(strings.TrimSpace(s), "["):
		var ds []time.Duration
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			d, err := time.ParseDuration(p)
			if err != nil {
				return err
			}
			ds = append(ds, d)
		}
		f.Set(reflect.ValueOf(ds))
		return nil
	case f.Kind() == reflect.String:
		f.SetString(s)
		return nil
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.SetBool(b)
		return nil
	case f.CanInt():
		n, err := strconv.ParseInt(s, 10, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetInt(n)
		return nil
	}
	nv := reflect.New(f.Type())
	dec := yaml.NewDecoder(strings.NewReader(s))
	dec.KnownFields(true)
	if err := dec.Decode(nv.Interface()); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("not a YAML %s: %w", f.Type(), err)
	}
	f.Set(nv.Elem())
	return nil
}

// Validate reports every problem of the configuration, each naming its
// setting by YAML path. It reads the files the settings name (keys,
// certificates, rules) but opens no listener and no journal.
func (c *serveConfig) Validate() error {
	var errs []error
	bad := func(path, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{path}, a...)...))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "want host:port, got %q", c.Listen)
	}
	if c.Admin != "" {
		if _, _, err := net.SplitHostPort(c.Admin); err != nil {
			bad("admin", "want host:port or empty (disabled), got %q", c.Admin)
		} else if c.Admin == c.Listen && !strings.HasSuffix(c.Admin, ":0") {
			bad("admin", "must differ from listen (%s)", c.Listen)
		}
	}
	switch {
	case c.Memory && c.Journal != "":
		bad("memory", "true excludes journal (%s)", server.RedactDSN(c.Journal))
	case c.Journal == "" && !c.Memory && c.Data == "":
		bad("data", "required for the Pebble journal (or set journal, or memory: true)")
	case c.Journal != "" && !(server.JournalConfig{DSN: c.Journal}).Shared():
		bad("journal", "want empty (Pebble under data) or a postgres:// URL, got %q", server.RedactDSN(c.Journal))
	}
	if c.Node < 0 || c.Node > 99 {
		bad("node", "must be 0..99, got %d", c.Node)
	}
	if c.SyncWindow > 100*time.Millisecond {
		bad("syncWindow", "must be at most 100ms (negative for none), got %s", c.SyncWindow)
	}
	if c.LeaseTTL < time.Millisecond {
		bad("leaseTTL", "must be at least 1ms, got %s", c.LeaseTTL)
	}
	if c.Engine.LeaseCheck <= 0 || (c.LeaseTTL > 0 && c.Engine.LeaseCheck*2 > c.LeaseTTL) {
		bad("engine.leaseCheck", "must be positive and at most half of leaseTTL (%s), got %s", c.LeaseTTL, c.Engine.LeaseCheck)
	}
	switch c.Log.Format {
	case "json", "text", "auto":
	default:
		bad("log.format", "want json, text or auto, got %q", c.Log.Format)
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		bad("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Shutdown.DrainTimeout <= 0 {
		bad("shutdown.drainTimeout", "must be positive, got %s", c.Shutdown.DrainTimeout)
	}
	e := &c.Engine
	for _, d := range []struct {
		path string
		v    time.Duration
	}{{"engine.payTimeout", e.PayTimeout}, {"engine.walletCallTimeout", e.WalletCallTimeout},
		{"engine.followUpDeadline", e.FollowUpDeadline}, {"engine.cancelWindow", e.CancelWindow},
		{"engine.refundWindow", e.RefundWindow}} {
		if d.v <= 0 {
			bad(d.path, "must be positive, got %s", d.v)
		}
	}
	if e.Retention < engine.DefaultRetention {
		bad("engine.retention", "must be at least %s (31 days), got %s", engine.DefaultRetention, e.Retention)
	}
	if e.FollowUpWorkers < 1 {
		bad("engine.followUpWorkers", "must be at least 1, got %d", e.FollowUpWorkers)
	}
	if e.MaxFollowUps < 1 {
		bad("engine.maxFollowUps", "must be at least 1, got %d", e.MaxFollowUps)
	}
	if e.MaxVoidsPerHour < 1 {
		bad("engine.maxVoidsPerHour", "must be at least 1, got %d", e.MaxVoidsPerHour)
	}
	for _, s := range []struct {
		path string
		v    []time.Duration
	}{{"engine.pollSchedule", e.PollSchedule}, {"engine.notifySchedule", e.NotifySchedule}} {
		for i, d := range s.v {
			if d < 0 || (d == 0 && s.path == "engine.pollSchedule") {
				bad(s.path, "step %d is %s: steps must be positive", i+1, d)
				break
			}
		}
	}
	ic := c.identConfig()
	ic.EnsureDefaults()
	if err := ic.Validate(); err != nil {
		for _, e := range unjoin(err) {
			bad("identification", "%v", e)
		}
	}
	if ic.RulesFile != "" {
		if _, err := ident.ReadRulesFile(ic.RulesFile); err != nil {
			bad("identification.rulesFile", "%v", err)
		}
	}
	if c.simulated() {
		if len(c.Wallets) > 0 {
			bad("sim", "true excludes wallets (%d configured): the simulated wallets would replace them", len(c.Wallets))
		}
		if !isLoopback(c.Listen) {
			bad("sim", "the simulated wallets approve test codes and charge nobody: they run with a loopback listen address only, got %q", c.Listen)
		}
		if (server.JournalConfig{DSN: c.Journal}).Shared() {
			bad("sim", "the simulated wallets cannot run with the PostgreSQL journal (%s): their payments would mix with real ones", server.RedactDSN(c.Journal))
		}
	} else if len(c.Wallets) == 0 {
		bad("wallets", "none configured: list the wallets paycode pays through, or set sim: true (-sim) to try it against simulated wallets (never for real money)")
	}
	names := map[string]bool{}
	for i, w := range c.Wallets {
		p := fmt.Sprintf("wallets[%d]", i)
		if w.Name == "" {
			bad(p+".name", "required")
		} else if names[w.Name] {
			bad(p+".name", "%q is listed twice", w.Name)
		}
		names[w.Name] = true
		// The URL is quoted redacted: a mistyped one may still carry a
		// credential (user-info, a query key), which the wallet client
		// refuses; mpp.RedactURL is the wallet client's own redaction.
		if !strings.Contains(w.URL, "://") {
			// "127.0.0.1:7001" does not parse, "localhost:7001" parses as
			// scheme "localhost": say what is missing rather than quote
			// either as not a URL.
			bad(p+".url", "want an http:// or https:// URL, got one without a scheme (write http://HOST:PORT)")
		} else if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(p+".url", "want an http:// or https:// URL, got %q", mpp.RedactURL(w.URL))
		} else if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			bad(p+".url", "want scheme://host[:port][/prefix] without user-info, query or fragment (credentials do not go in a wallet URL), got %q and more", u.Scheme+"://"+u.Host+u.EscapedPath())
		}
		switch w.Signing {
		case "", "none":
		case "rsa256":
			if c.Keys == nil || (c.Keys.PrivateKey == "" && c.Keys.PrivateKeyFile == "") {
				bad(p+".signing", "rsa256 needs paycode's private key (keys.privateKeyFile)")
			}
			if w.PublicKey == "" && w.PublicKeyFile == "" {
				bad(p+".signing", "rsa256 needs the wallet's publicKey or publicKeyFile")
			}
		default:
			bad(p+".signing", "want rsa256 or none, got %q", w.Signing)
		}
		if w.MaxConns < 0 || w.MaxInFlight < 0 || w.Timeout < 0 {
			bad(p, "maxConns, maxInFlight and timeout must not be negative")
		}
	}
	if _, err := admin.NewAuth(c.AdminToken, c.AdminAllow); err != nil {
		bad("adminToken", "%v", err)
	}
	if err := c.Notify.Validate(); err != nil {
		bad("notify", "%v", err)
	}
	if _, err := codec.NewAmountLimits(c.Limits.MaxAmount); err != nil {
		bad("limits.maxAmount", "%v", err)
	}
	if _, _, _, err := c.security(); err != nil {
		if strings.HasPrefix(err.Error(), "keys:") {
			errs = append(errs, err)
		} else {
			bad("keys", "%v", err)
		}
	}
	return errors.Join(errs...)
}

// unjoin splits an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// parseLevel reads a log level (debug, info, warn, error, or slog's
// forms such as INFO+2).
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// identConfig is the identification section as ident.Config.
func (c *serveConfig) identConfig() ident.Config {
	id := &c.Identification
	return ident.Config{RulesFile: id.RulesFile, ServiceURL: id.ServiceURL, TTL: id.TTL, NegativeTTL: id.NegativeTTL,
		RefreshAhead: id.RefreshAhead, SourceTimeout: id.SourceTimeout, MaxEntries: id.MaxEntries, MaxConns: id.MaxConns}
}

// engineConfig is the engine section as engine.Config (without wallets,
// identifier, journal or hooks: serve adds them).
func (c *serveConfig) engineConfig() engine.Config {
	e := &c.Engine
	return engine.Config{
		Node:       c.Node,
		PayTimeout: e.PayTimeout, WalletCallTimeout: e.WalletCallTimeout,
		FollowUpDeadline: e.FollowUpDeadline, CancelWindow: e.CancelWindow,
		RefundWindow: e.RefundWindow, FollowUpWorkers: e.FollowUpWorkers,
		MaxFollowUps: e.MaxFollowUps, MaxVoidsPerHour: e.MaxVoidsPerHour,
		PollSchedule: e.PollSchedule, NotifySchedule: e.NotifySchedule,
		Retention: e.Retention, AsyncOutcomes: e.AsyncOutcomes, LeaseCheck: e.LeaseCheck,
	}
}

// redacted is what `config print` shows for a secret.
const redacted = "(redacted)"

// redactedCopy returns c with its secrets hidden: inline private keys,
// passwords in URLs.
func (c *serveConfig) redactedCopy() *serveConfig {
	r := *c
	r.Journal = server.RedactDSN(c.Journal)
	if c.AdminToken != "" {
		r.AdminToken = redacted
	}
	r.Identification.ServiceURL = server.RedactDSN(c.Identification.ServiceURL)
	if c.Keys != nil {
		k := *c.Keys
		if k.PrivateKey != "" {
			k.PrivateKey = redacted
		}
		r.Keys = &k
	}
	r.Wallets = append([]server.WalletConfig(nil), c.Wallets...)
	for i := range r.Wallets {
		r.Wallets[i].URL = server.RedactDSN(r.Wallets[i].URL)
	}
	return &r
}
