package codec

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Parse errors. Every error the lane parsers return is a *FieldError that
// names the JSON path of the offending field and unwraps to one of these
// sentinels (or to ErrCurrency, ErrAmountFormat or ErrAmountRange). The
// engine answers all of them PARAM_ILLEGAL with the error text as
// resultMessage, so the texts are written for the lane's developer, and
// they never contain a field's value: the body may carry a payment code.
var (
	ErrSyntax       = errors.New("codec: malformed JSON")
	ErrMissing      = errors.New("codec: mandatory field is missing")
	ErrType         = errors.New("codec: wrong JSON type")
	ErrDuplicateKey = errors.New("codec: duplicate key")
	ErrTooLong      = errors.New("codec: value is too long")
	ErrValue        = errors.New("codec: invalid value")
)

// FieldError is a parse error located at a field. Field is the JSON path
// ("order.merchant.store.storeMCC"); the empty path is the body itself.
// Err is a sentinel of this package, or an error that unwraps to one.
type FieldError struct {
	Field string
	Err   error
}

// Error reads like "codec: order.orderAmount.value: amount value is not a
// string of ASCII digits".
func (e *FieldError) Error() string {
	field := e.Field
	if field == "" {
		field = "body"
	}
	msg := "invalid"
	if e.Err != nil {
		msg = strings.TrimPrefix(e.Err.Error(), "codec: ")
	}
	return "codec: " + field + ": " + msg
}

func (e *FieldError) Unwrap() error { return e.Err }

// laneError is a more precise message for one of the sentinels: it reads
// better in resultMessage and still matches errors.Is(err, kind). The
// values are package-level and immutable, so returning one costs nothing.
type laneError struct {
	msg  string
	kind error
}

func (e *laneError) Error() string { return e.msg }
func (e *laneError) Unwrap() error { return e.kind }

func newLaneError(kind error, msg string) error { return &laneError{"codec: " + msg, kind} }

var (
	laneErrTooDeep      = newLaneError(ErrSyntax, "malformed JSON: nested deeper than "+strconv.Itoa(fastjson.MaxDepth)+" levels")
	laneErrNotUTF8      = newLaneError(ErrSyntax, "malformed JSON: not valid UTF-8")
	laneErrSurrogate    = newLaneError(ErrSyntax, `malformed JSON: unpaired UTF-16 surrogate in a \u escape`)
	laneErrNotObject    = newLaneError(ErrType, "must be a JSON object")
	laneErrNotString    = newLaneError(ErrType, "must be a JSON string")
	laneErrAmountNumber = newLaneError(ErrType, "must be minor units: a JSON string or an integer, not a fraction or an exponent")
	laneErrMCCType      = newLaneError(ErrType, "must be a JSON string (or an integer 0-9999)")
	laneErrEmpty        = newLaneError(ErrValue, "must not be empty")
	laneErrControl      = newLaneError(ErrValue, "must not contain control characters")
	laneErrInvisible    = newLaneError(ErrValue, "must not contain invisible format characters (bidirectional controls, zero-width characters, byte order marks)")
	laneErrURLAbsolute  = newLaneError(ErrValue, "must be an absolute https:// (or http://) URL")
	laneErrURLHost      = newLaneError(ErrValue, "must name a host")
	laneErrURLUserInfo  = newLaneError(ErrValue, "must not carry user-info (user:password@)")
	laneErrURLChars     = newLaneError(ErrValue, "must be ASCII without spaces or backslashes (percent-encode the rest)")
	laneErrDupUnknown   = newLaneError(ErrDuplicateKey, "object has a duplicate key")
	laneErrProductCode  = newLaneError(ErrValue, "must be "+laneProductInStore)
	laneErrScenario     = newLaneError(ErrValue, "must be "+laneScenario)
	laneErrCurrencyDiff = newLaneError(ErrValue, "must be the currency of paymentAmount")
	laneErrNeedPayment  = newLaneError(ErrMissing, "one of paymentId and paymentRequestId is required")
	laneErrNeedRefund   = newLaneError(ErrMissing, "one of refundId and refundRequestId is required")
)

func laneFieldErr(path string, err error) error { return &FieldError{Field: path, Err: err} }

// laneRule is how a string field is checked: a maximum length and what
// counts. Identifiers, codes, URLs and times are limited in bytes and may
// not hold control characters (C0, DEL, C1) nor invisible format
// characters (Unicode category Cf: the bidirectional controls
// U+202A–202E and U+2066–2069, the zero-width U+200B–200F, U+2060–2064,
// U+FEFF, …): they are keys, log fields and receipts, where two ids that
// print alike must be the same id. Human text (descriptions, names) is
// limited in characters, so a Chinese store name gets the same room as an
// English one, and may hold any character (ZWJ and ZWNJ are spelling in
// some scripts).
type laneRule struct {
	max     int
	text    bool
	tooLong error
}

func newLaneRule(max int, text bool) laneRule {
	unit := " bytes"
	if text {
		unit = " characters"
	}
	return laneRule{max, text, newLaneError(ErrTooLong, "longer than "+strconv.Itoa(max)+unit)}
}

var (
	laneRuleID        = newLaneRule(MaxIDLen, false)
	laneRuleShort     = newLaneRule(MaxShortFieldLen, false)
	laneRuleName      = newLaneRule(MaxShortFieldLen, true)
	laneRuleText      = newLaneRule(MaxDescriptionLen, true)
	laneRuleURL       = newLaneRule(MaxNotifyURLLen, false)
	laneRuleRefundURL = newLaneRule(MaxRefundURLLen, false)
	laneRuleAccount   = newLaneRule(MaxAccountIDLen, false)
)

func (r *laneRule) check(b []byte) error {
	if r.text {
		if len(b) > r.max && utf8.RuneCount(b) > r.max {
			return r.tooLong
		}
		return nil
	}
	if len(b) > r.max {
		return r.tooLong
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return laneErrControl
			}
			i++
			continue
		}
		// Valid UTF-8: open checked the body.
		ru, n := utf8.DecodeRune(b[i:])
		switch {
		case ru <= 0x9f: // C1 controls U+0080–U+009F
			return laneErrControl
		case unicode.Is(unicode.Cf, ru):
			return laneErrInvisible
		}
		i += n
	}
	return nil
}

// notifyURL reads an optional notify URL: a string field of rule's
// length that is an absolute URL, scheme http or https in any case, with
// a host, without user-info, in printable ASCII without backslashes (so
// no two URL parsers can disagree on its host). Whether http and the host
// are allowed is the notifier's business (engine/notify), at arrival and
// again when it connects.
func (s *laneScanner) notifyURL(v *fastjson.Value, path string, rule *laneRule) ([]byte, error) {
	b, err := s.str(v, path, rule, false)
	if b == nil || err != nil {
		return b, err
	}
	if err := checkNotifyURL(b); err != nil {
		return nil, laneFieldErr(path, err)
	}
	return b, nil
}

// checkNotifyURL is notifyURL's syntax check; it does not allocate.
func checkNotifyURL(b []byte) error {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == '\\' {
			return laneErrURLChars
		}
	}
	var rest []byte
	switch {
	case len(b) > 8 && bytes.EqualFold(b[:8], []byte("https://")):
		rest = b[8:]
	case len(b) > 7 && bytes.EqualFold(b[:7], []byte("http://")):
		rest = b[7:]
	default:
		return laneErrURLAbsolute
	}
	if i := bytes.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if bytes.IndexByte(rest, '@') >= 0 {
		return laneErrURLUserInfo
	}
	host := rest
	if len(host) > 0 && host[0] == '[' { // [IPv6]:port
		if i := bytes.IndexByte(host, ']'); i > 1 {
			host, rest = host[1:i], host[i+1:]
		} else {
			return laneErrURLHost
		}
	} else if i := bytes.LastIndexByte(host, ':'); i >= 0 {
		host, rest = host[:i], host[i:]
	} else {
		rest = nil
	}
	if len(host) == 0 {
		return laneErrURLHost
	}
	if len(rest) > 0 { // :port
		if rest[0] != ':' || len(rest) == 1 || len(rest) > 6 {
			return laneErrURLHost
		}
		for _, c := range rest[1:] {
			if c < '0' || c > '9' {
				return laneErrURLHost
			}
		}
	}
	return nil
}

// laneObj lists the keys of one JSON object that a parser reads, with the
// full paths used in errors. Specs are built once and read-only.
type laneObj struct {
	path  string
	keys  []string
	paths []string
}

func newLaneObj(path string, keys ...string) *laneObj {
	s := &laneObj{path: path, keys: keys, paths: make([]string, len(keys))}
	for i, k := range keys {
		if path == "" {
			s.paths[i] = k
		} else {
			s.paths[i] = path + "." + k
		}
	}
	return s
}

// laneScanner is the pooled parse state: a fastjson parser (whose memory every
// *fastjson.Value points into) and scratch space. It lives only for the
// duration of one Parse call; nothing returned to the caller points into
// it, which is why the parsers copy each field into the request value.
type laneScanner struct {
	p    fastjson.Parser
	keys [][]byte   // the keys of the object being read, for duplicates
	mccs [2][4]byte // MCCs sent as JSON numbers, formatted as 4 digits
	num  [24]byte   // an amount value sent as a JSON number, as written
}

var laneScanners = sync.Pool{New: func() any { return new(laneScanner) }}

func acquireLaneScanner() *laneScanner { return laneScanners.Get().(*laneScanner) }

// laneMaxPooledBody is the largest body whose scanner goes back to the
// pool. A fastjson parser keeps its copy of the body and one Value per
// JSON value, and the key scratch grows with the widest object; after an
// outsized body those would stay pinned in the pool, so that scanner is
// left to the garbage collector instead. Lane bodies are about 1 KiB.
const laneMaxPooledBody = 64 << 10

func releaseLaneScanner(s *laneScanner, bodyLen int) {
	if bodyLen > laneMaxPooledBody {
		return
	}
	clear(s.keys)
	s.keys = s.keys[:0]
	laneScanners.Put(s)
}

// open parses body and returns its top-level object. The body must be
// exactly one JSON object of strict JSON (RFC 8259), valid UTF-8, with
// no unpaired surrogate escapes, nested at most fastjson.MaxDepth deep.
// fastjson's parser checks the structure (and bounds the nesting) but
// alone accepts NaN, leading zeros, raw control characters and unknown
// escapes; laneStrict refuses those. fastjson's own error texts quote the
// input, so they are dropped.
func (s *laneScanner) open(body []byte) (*fastjson.Object, error) {
	v, err := s.p.ParseBytes(body)
	if err != nil {
		if strings.Contains(err.Error(), "too big depth") {
			return nil, laneFieldErr("", laneErrTooDeep)
		}
		return nil, laneFieldErr("", ErrSyntax)
	}
	strict, paired := laneStrict(body)
	if !strict {
		return nil, laneFieldErr("", ErrSyntax)
	}
	if !utf8.Valid(body) {
		return nil, laneFieldErr("", laneErrNotUTF8)
	}
	if !paired {
		return nil, laneFieldErr("", laneErrSurrogate)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, laneFieldErr("", laneErrNotObject)
	}
	o, _ := v.Object()
	return o, nil
}

// laneStrict checks, in one pass over a body fastjson's parser accepted
// (so its brackets, commas, colons and literals' places are right), what
// that parser lets through and strict JSON does not, exactly as
// fastjson.Validate does: strings (keys included) hold no byte below 0x20
// and only the escapes \" \\ \/ \b \f \n \r \t and \u with four hex
// digits; a number is -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; the
// only words are true, false and null. It is what Validate plus the
// surrogate check cost twice over, on every lane request: Validate walks
// the whole text again, recursively and a byte at a time per key.
// paired reports that every \uD800–\uDBFF escape is followed by a
// \uDC00–\uDFFF escape and no low one stands alone (fastjson would keep
// an unpaired one as literal text, and the id a lane sent would not be
// the id we echo). FuzzLaneStrict holds it to Validate and the old
// surrogate scan.
func laneStrict(b []byte) (strict, paired bool) {
	paired = true
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			i++
			for {
				for i < len(b) && lanePlain[b[i]] {
					i++
				}
				if i >= len(b) {
					return false, paired
				}
				if b[i] == '"' {
					i++
					break
				}
				if b[i] != '\\' || i+1 >= len(b) {
					return false, paired // a control character, or a cut escape
				}
				switch b[i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					i += 2
					continue
				case 'u':
				default:
					return false, paired
				}
				u := laneHex4(b[i+2:])
				if u < 0 {
					return false, paired
				}
				i += 6
				switch {
				case u >= 0xDC00 && u <= 0xDFFF:
					paired = false
				case u >= 0xD800 && u <= 0xDBFF:
					if i+1 >= len(b) || b[i] != '\\' || b[i+1] != 'u' {
						paired = false
						continue
					}
					if l := laneHex4(b[i+2:]); l < 0xDC00 || l > 0xDFFF {
						paired = false // the escape itself is checked on the next turn
						continue
					}
					i += 6
				}
			}
		case c == '-' || c >= '0' && c <= '9':
			n := laneNumberLen(b[i:])
			if n == 0 || !laneDelimited(b, i+n) {
				return false, paired
			}
			i += n
		case c == 't' || c == 'f' || c == 'n':
			w := "null"
			switch c {
			case 't':
				w = "true"
			case 'f':
				w = "false"
			}
			if !bytes.HasPrefix(b[i:], []byte(w)) || !laneDelimited(b, i+len(w)) {
				return false, paired
			}
			i += len(w)
		case c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' ||
			c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		default:
			return false, paired
		}
	}
	return true, paired
}

// lanePlain marks the bytes a JSON string holds as they are: all but
// the quote, the backslash and the control characters (UTF-8 is checked
// apart).
var lanePlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// laneNumberLen is the length of the strict JSON number b starts with, 0
// when it starts with none.
func laneNumberLen(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	d := laneDigits(b[i:])
	if d == 0 || (d > 1 && b[i] == '0') {
		return 0
	}
	i += d
	if i < len(b) && b[i] == '.' {
		d = laneDigits(b[i+1:])
		if d == 0 {
			return 0
		}
		i += 1 + d
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d = laneDigits(b[i:])
		if d == 0 {
			return 0
		}
		i += d
	}
	return i
}

func laneDigits(b []byte) int {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	return n
}

// laneDelimited reports whether a number or word ending at i is followed
// by the end, white space or a structural character.
func laneDelimited(b []byte, i int) bool {
	if i >= len(b) {
		return true
	}
	switch b[i] {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// laneHex4 decodes the 4 hex digits b starts with; -1 when there are
// fewer or one is not a hex digit.
func laneHex4(b []byte) int {
	if len(b) < 4 {
		return -1
	}
	n := 0
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		default:
			return -1
		}
	}
	return n
}

// lanePairwiseMax is the object size up to which duplicates are found by
// comparing every pair; larger objects are sorted (n log n), so a body
// with thousands of keys cannot make duplicate detection quadratic.
const lanePairwiseMax = 16

// collect visits o once: the value of spec.keys[i] goes to *dst[i] (nil
// when absent), and any key that occurs twice — known or not — is an
// ErrDuplicateKey error (fastjson keeps duplicates, and a later value
// silently winning is how request smuggling between two parsers starts).
func (s *laneScanner) collect(o *fastjson.Object, spec *laneObj, dst ...**fastjson.Value) error {
	keys := s.keys[:0]
	o.Visit(func(k []byte, v *fastjson.Value) {
		keys = append(keys, k)
		for i, name := range spec.keys {
			if string(k) == name {
				*dst[i] = v
				break
			}
		}
	})
	s.keys = keys
	dup := laneDuplicate(keys)
	if dup == nil {
		return nil
	}
	for i, name := range spec.keys {
		if string(dup) == name {
			return laneFieldErr(spec.paths[i], ErrDuplicateKey)
		}
	}
	return laneFieldErr(spec.path, laneErrDupUnknown)
}

// laneDuplicate returns a key that occurs more than once, or nil. It may
// reorder keys.
func laneDuplicate(keys [][]byte) []byte {
	if len(keys) <= lanePairwiseMax {
		for i := 1; i < len(keys); i++ {
			for j := 0; j < i; j++ {
				if bytes.Equal(keys[i], keys[j]) {
					return keys[i]
				}
			}
		}
		return nil
	}
	slices.SortFunc(keys, bytes.Compare)
	for i := 1; i < len(keys); i++ {
		if bytes.Equal(keys[i], keys[i-1]) {
			return keys[i]
		}
	}
	return nil
}

// laneAbsent reports whether a field is missing; null counts as missing, as
// the SDKs send null for unset optional fields.
func laneAbsent(v *fastjson.Value) bool { return v == nil || v.Type() == fastjson.TypeNull }

// object reads an object-valued field.
func (s *laneScanner) object(v *fastjson.Value, path string, required bool) (*fastjson.Object, error) {
	if laneAbsent(v) {
		if required {
			return nil, laneFieldErr(path, ErrMissing)
		}
		return nil, nil
	}
	if v.Type() != fastjson.TypeObject {
		return nil, laneFieldErr(path, laneErrNotObject)
	}
	o, _ := v.Object()
	return o, nil
}

// str reads a string field. The result points into the parser; the
// caller copies it (laneDetach) before the scanner is released. An empty
// optional string is treated as absent; an empty mandatory one is an
// error. No field read here is documented as a number or boolean, so
// there is no scalar leniency at this level (see mcc for the exception).
func (s *laneScanner) str(v *fastjson.Value, path string, rule *laneRule, required bool) ([]byte, error) {
	if laneAbsent(v) {
		if required {
			return nil, laneFieldErr(path, ErrMissing)
		}
		return nil, nil
	}
	if v.Type() != fastjson.TypeString {
		return nil, laneFieldErr(path, laneErrNotString)
	}
	b, _ := v.StringBytes()
	if len(b) == 0 {
		if required {
			return nil, laneFieldErr(path, laneErrEmpty)
		}
		return nil, nil
	}
	if err := rule.check(b); err != nil {
		return nil, laneFieldErr(path, err)
	}
	return b, nil
}

// mcc reads a merchant category code. It is documented as a string, but
// an MCC is a 4-digit number (ISO 18245) and some POS integrations send it
// as one, so this is the one place where the spec's "accept native JSON
// scalars" leniency makes sense: an integer 0-9999 is accepted and
// written back as its 4-digit string (742 → "0742", the leading zero the
// number lost). Fractions, exponents, negatives and booleans are refused.
func (s *laneScanner) mcc(v *fastjson.Value, path string, slot int) ([]byte, error) {
	switch {
	case laneAbsent(v):
		return nil, laneFieldErr(path, ErrMissing)
	case v.Type() == fastjson.TypeString:
		return s.str(v, path, &laneRuleShort, true)
	case v.Type() != fastjson.TypeNumber:
		return nil, laneFieldErr(path, laneErrMCCType)
	}
	n, err := v.Int()
	if err != nil || n < 0 || n > 9999 {
		return nil, laneFieldErr(path, laneErrMCCType)
	}
	b := s.mccs[slot][:]
	for i := 3; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b, nil
}

// amount reads an Amount object. Both members are mandatory: currency a
// known ISO 4217 code, value a JSON string of ASCII digits (minor units)
// without leading zeros that fits int64 (the per-currency maximum is
// AmountLimits', checked by the caller). Antom documents the value as a
// string, but the API reference asks servers to accept native JSON
// scalars too, and the official PHP SDK's Amount sends whatever PHP type
// the lane set (an int from its own payment-code helper): so an integer
// JSON number is read by the same rules, as written (5600 is "5600").
// A fraction or an exponent (56.00, 5.6e3) is refused rather than
// converted: a float has no exact minor-unit meaning, and 56.00 most
// likely means major units.
func (s *laneScanner) amount(v *fastjson.Value, spec *laneObj) (Amount, error) {
	o, err := s.object(v, spec.path, true)
	if err != nil {
		return Amount{}, err
	}
	var cur, val *fastjson.Value
	if err := s.collect(o, spec, &cur, &val); err != nil {
		return Amount{}, err
	}
	var a Amount
	switch {
	case laneAbsent(cur):
		return Amount{}, laneFieldErr(spec.paths[0], ErrMissing)
	case cur.Type() != fastjson.TypeString:
		return Amount{}, laneFieldErr(spec.paths[0], laneErrNotString)
	}
	cb, _ := cur.StringBytes()
	if a.Currency, err = ParseCurrency(cb); err != nil {
		return Amount{}, laneFieldErr(spec.paths[0], err)
	}
	switch {
	case laneAbsent(val):
		return Amount{}, laneFieldErr(spec.paths[1], ErrMissing)
	case val.Type() == fastjson.TypeNumber:
		return s.amountNumber(a, val, spec.paths[1])
	case val.Type() != fastjson.TypeString:
		return Amount{}, laneFieldErr(spec.paths[1], laneErrNotString)
	}
	vb, _ := val.StringBytes()
	if a.Value, err = ParseLaneAmountValue(vb); err != nil {
		return Amount{}, laneFieldErr(spec.paths[1], err)
	}
	return a, nil
}

// amountNumber reads an amount value sent as a JSON number: digits only
// (a sign, a fraction or an exponent is refused), then the string form's
// rules (no leading zero, within int64; the caller checks the maximum).
func (s *laneScanner) amountNumber(a Amount, val *fastjson.Value, path string) (Amount, error) {
	raw := val.MarshalTo(s.num[:0])
	for _, c := range raw {
		if c < '0' || c > '9' {
			return Amount{}, laneFieldErr(path, laneErrAmountNumber)
		}
	}
	var err error
	if a.Value, err = ParseLaneAmountValue(raw); err != nil {
		return Amount{}, laneFieldErr(path, err)
	}
	return a, nil
}

// currency reads an optional currency code field.
func (s *laneScanner) currency(v *fastjson.Value, path string) (Currency, error) {
	if laneAbsent(v) {
		return 0, nil
	}
	if v.Type() != fastjson.TypeString {
		return 0, laneFieldErr(path, laneErrNotString)
	}
	b, _ := v.StringBytes()
	c, err := ParseCurrency(b)
	if err != nil {
		return 0, laneFieldErr(path, err)
	}
	return c, nil
}

// laneMinDetachCap is the smallest backing store a request value gets, so the
// first few requests do not each grow it.
const laneMinDetachCap = 512

// laneDetach copies every field into buf, one backing array per request value,
// and points the fields at their copies, so the request outlives the
// parser and the body. The capacity is the sum of the field lengths (not
// the body size), so a pooled value is not pinned to one huge body. Each
// field is capped (s[i:j:j]) so appending to one cannot clobber the next.
func laneDetach(buf []byte, fields []*[]byte) []byte {
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	if cap(buf) < n {
		buf = make([]byte, 0, max(n, laneMinDetachCap))
	}
	buf = buf[:0]
	for _, f := range fields {
		if len(*f) == 0 {
			*f = nil
			continue
		}
		start := len(buf)
		buf = append(buf, *f...)
		*f = buf[start:len(buf):len(buf)]
	}
	return buf
}
