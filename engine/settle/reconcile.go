package settle

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Kind is what a Mismatch is about.
type Kind uint8

// Mismatch kinds, in the order Reconcile lists a transaction's mismatches.
const (
	// MissingOurs: theirs lists a transaction ours does not.
	MissingOurs Kind = iota + 1
	// MissingTheirs: ours lists a transaction theirs does not.
	MissingTheirs
	// TypeDiffers: both list the transaction id with other types (and
	// no row of the same type is left to pair it with).
	TypeDiffers
	// StatusDiffers: transactionStatus differs.
	StatusDiffers
	// AmountDiffers: transactionAmountValue differs.
	AmountDiffers
	// CurrencyDiffers: transactionCurrency differs.
	CurrencyDiffers
	// OriginalDiffers: originalTransactionId differs (a refund or cancel
	// booked against another payment).
	OriginalDiffers
)

var kindNames = [...]string{"", "MISSING_OURS", "MISSING_THEIRS", "TYPE_DIFFERS", "STATUS_DIFFERS",
	"AMOUNT_DIFFERS", "CURRENCY_DIFFERS", "ORIGINAL_DIFFERS"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return ""
}

// Mismatch is one difference between two files. Ours and Theirs are the
// rows concerned (nil on the side where the row is missing); each
// differing field of a paired row is its own Mismatch.
type Mismatch struct {
	Kind          Kind
	TransactionID string
	Ours, Theirs  *Row
}

// String is the mismatch on one line: kind, transactionId, type, what
// differs, and the lines in each file.
func (m Mismatch) String() string {
	var b strings.Builder
	b.WriteString(m.Kind.String())
	b.WriteString(" transactionId=")
	b.WriteString(m.TransactionID)
	one := m.Ours
	if one == nil {
		one = m.Theirs
	}
	switch m.Kind {
	case MissingOurs, MissingTheirs:
		b.WriteString(" type=" + one.Type.String() + " status=" + one.Status.String() + " amount=" + formatAmount(one.Amount))
		if one.OriginalID != "" && one.OriginalID != one.TransactionID {
			b.WriteString(" original=" + one.OriginalID)
		}
	case TypeDiffers:
		b.WriteString(" ours=" + m.Ours.Type.String() + " theirs=" + m.Theirs.Type.String())
	case StatusDiffers:
		b.WriteString(" type=" + m.Ours.Type.String() + " ours=" + m.Ours.Status.String() + " theirs=" + m.Theirs.Status.String())
	case AmountDiffers:
		b.WriteString(" type=" + m.Ours.Type.String() + " ours=" + strconv.FormatInt(m.Ours.Amount.Value, 10) +
			" theirs=" + strconv.FormatInt(m.Theirs.Amount.Value, 10))
	case CurrencyDiffers:
		b.WriteString(" type=" + m.Ours.Type.String() + " ours=" + m.Ours.Amount.Currency.String() + " theirs=" + m.Theirs.Amount.Currency.String())
	case OriginalDiffers:
		b.WriteString(" type=" + m.Ours.Type.String() + " ours=" + m.Ours.OriginalID + " theirs=" + m.Theirs.OriginalID)
	}
	if m.Ours != nil && m.Ours.Line > 0 {
		b.WriteString(" ours:" + strconv.Itoa(m.Ours.Line))
	}
	if m.Theirs != nil && m.Theirs.Line > 0 {
		b.WriteString(" theirs:" + strconv.Itoa(m.Theirs.Line))
	}
	return b.String()
}

// Reconcile lists every difference between two files' rows, keyed by
// transactionId. Rows with the same id are paired by type first (a
// payment's PAYMENT with PAYMENT, CANCEL with CANCEL), then the rows left
// on both sides are paired in type order and reported TypeDiffers; rows
// left on one side only are missing on the other (a row listed twice on
// one side is missing once on the other). Paired rows are compared on
// status, amount, currency and originalTransactionId; other columns
// (times, names, the merchant's request ids, which a wallet does not
// know) are not compared. The result is ordered by transactionId, then
// type, then kind: the same files give the same list. Neither input is
// modified; mismatches point into them.
func Reconcile(ours, theirs []Row) []Mismatch {
	type side struct{ ours, theirs []*Row }
	byID := make(map[string]*side)
	for i := range ours {
		s := byID[ours[i].TransactionID]
		if s == nil {
			s = &side{}
			byID[ours[i].TransactionID] = s
		}
		s.ours = append(s.ours, &ours[i])
	}
	for i := range theirs {
		s := byID[theirs[i].TransactionID]
		if s == nil {
			s = &side{}
			byID[theirs[i].TransactionID] = s
		}
		s.theirs = append(s.theirs, &theirs[i])
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	byType := func(a, b *Row) int {
		if c := cmp.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	}
	var out []Mismatch
	for _, id := range ids {
		s := byID[id]
		slices.SortStableFunc(s.ours, byType)
		slices.SortStableFunc(s.theirs, byType)
		var found []Mismatch
		// Pass 1: pair rows of the same type.
		usedO := make([]bool, len(s.ours))
		usedT := make([]bool, len(s.theirs))
		for i, o := range s.ours {
			for j, t := range s.theirs {
				if !usedT[j] && t.Type == o.Type {
					usedO[i], usedT[j] = true, true
					found = compareRows(found, o, t)
					break
				}
			}
		}
		// Pass 2: pair what is left, in type order: the type differs.
		var leftO, leftT []*Row
		for i, o := range s.ours {
			if !usedO[i] {
				leftO = append(leftO, o)
			}
		}
		for j, t := range s.theirs {
			if !usedT[j] {
				leftT = append(leftT, t)
			}
		}
		n := min(len(leftO), len(leftT))
		for k := 0; k < n; k++ {
			found = append(found, Mismatch{Kind: TypeDiffers, TransactionID: id, Ours: leftO[k], Theirs: leftT[k]})
			found = compareRows(found, leftO[k], leftT[k])
		}
		for _, o := range leftO[n:] {
			found = append(found, Mismatch{Kind: MissingTheirs, TransactionID: id, Ours: o})
		}
		for _, t := range leftT[n:] {
			found = append(found, Mismatch{Kind: MissingOurs, TransactionID: id, Theirs: t})
		}
		slices.SortStableFunc(found, func(a, b Mismatch) int {
			if c := cmp.Compare(mismatchType(a), mismatchType(b)); c != 0 {
				return c
			}
			return cmp.Compare(a.Kind, b.Kind)
		})
		out = append(out, found...)
	}
	return out
}

func mismatchType(m Mismatch) Type {
	if m.Ours != nil {
		return m.Ours.Type
	}
	return m.Theirs.Type
}

// compareRows appends the field differences of a paired o and t.
func compareRows(dst []Mismatch, o, t *Row) []Mismatch {
	add := func(k Kind) { dst = append(dst, Mismatch{Kind: k, TransactionID: o.TransactionID, Ours: o, Theirs: t}) }
	if o.Status != t.Status {
		add(StatusDiffers)
	}
	if o.Amount.Value != t.Amount.Value {
		add(AmountDiffers)
	}
	if o.Amount.Currency != t.Amount.Currency {
		add(CurrencyDiffers)
	}
	if o.OriginalID != t.OriginalID {
		add(OriginalDiffers)
	}
	return dst
}

// Summary counts a reconciliation's rows and mismatches.
type Summary struct {
	Ours, Theirs int // rows in each file
	Matched      int // rows paired with no mismatch at all
	ByKind       map[Kind]int
	Total        int // mismatches
}

// Summarize counts rows and mismatches (mismatches from Reconcile(ours,
// theirs)).
func Summarize(ours, theirs []Row, ms []Mismatch) Summary {
	s := Summary{Ours: len(ours), Theirs: len(theirs), ByKind: map[Kind]int{}, Total: len(ms)}
	bad := make(map[*Row]bool)
	for _, m := range ms {
		s.ByKind[m.Kind]++
		if m.Ours != nil {
			bad[m.Ours] = true
		}
	}
	for i := range ours {
		if !bad[&ours[i]] {
			s.Matched++
		}
	}
	return s
}

// String is the summary on one line, e.g. "ours 12 rows, theirs 11 rows,
// matched 10, mismatches 3 (MISSING_THEIRS 1, AMOUNT_DIFFERS 2)".
func (s Summary) String() string {
	var b strings.Builder
	b.WriteString("ours " + strconv.Itoa(s.Ours) + " rows, theirs " + strconv.Itoa(s.Theirs) +
		" rows, matched " + strconv.Itoa(s.Matched) + ", mismatches " + strconv.Itoa(s.Total))
	if s.Total > 0 {
		b.WriteString(" (")
		first := true
		for k := MissingOurs; k <= OriginalDiffers; k++ {
			if n := s.ByKind[k]; n > 0 {
				if !first {
					b.WriteString(", ")
				}
				first = false
				b.WriteString(k.String() + " " + strconv.Itoa(n))
			}
		}
		b.WriteString(")")
	}
	return b.String()
}
