package journal

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// Key layout (all keys are ASCII prefixes followed by ids; see doc.go):
//
//	m/codekey                    32 random bytes: the engine's code-hash key
//	m/layout                     one byte: layoutVersion
//	p/<paymentId>                latest PaymentRecord
//	r/<refundId>                 latest RefundRecord
//	n/<paymentId>                pending NotificationRecord
//	x/<paymentId> 0x00 <refundId>  empty: refunds of a payment (compaction)
//	t/<be64 seconds> <paymentId> empty: a final payment version by age (compaction)
//	q/, h/, s/, l/               lookup indexes (layout 2, see pebble_shared.go)
//	d/<be64 seconds> <paymentId> empty: a notification version by due time (layout 3, outbox.go)
const (
	prefixMeta         = "m/"
	prefixPayment      = "p/"
	prefixRefund       = "r/"
	prefixNotification = "n/"
	prefixRefundIndex  = "x/"
	prefixAge          = "t/"
	prefixDue          = "d/"

	keyCodeKey = "m/codekey"
	keyLayout  = "m/layout"

	// layoutVersion is the key layout's version, stored under m/layout on
	// creation; Open refuses a store with another layout.
	layoutVersion = 3
)

// CodeKeySize is the size of the key CodeKey returns.
const CodeKeySize = 32

// MaxIDLen bounds payment and refund ids (the engine's are 32 digits).
const MaxIDLen = 256

// Append errors that leave the journal usable: nothing was written.
var (
	ErrInvalid = errors.New("journal: invalid record")
	ErrClosed  = errors.New("journal: closed")
)

// ValidID reports whether id is a usable payment or refund id: 1 to
// MaxIDLen bytes, no NUL (which PostgreSQL text refuses too).
func ValidID(id string) bool {
	return id != "" && len(id) <= MaxIDLen && strings.IndexByte(id, 0) < 0
}

// ValidateBatch checks every id of b before anything is written, so an
// invalid batch is refused whole and does not fail the journal. It
// returns ErrInvalid for a nil batch, a nil record or an id that is not
// ValidID. Other journal implementations call it to refuse the same
// batches.
func ValidateBatch(b *engine.Batch) error {
	if b == nil {
		return ErrInvalid
	}
	for _, r := range b.Payments {
		if r == nil || !ValidID(r.PaymentID) {
			return ErrInvalid
		}
	}
	for _, r := range b.Refunds {
		if r == nil || !ValidID(r.RefundID) || !ValidID(r.PaymentID) {
			return ErrInvalid
		}
	}
	for _, r := range b.Notifications {
		if r == nil || !ValidID(r.PaymentID) {
			return ErrInvalid
		}
	}
	for _, id := range b.Delivered {
		if !ValidID(id) {
			return ErrInvalid
		}
	}
	return nil
}

func appendKey(dst []byte, prefix, id string) []byte {
	dst = append(dst, prefix...)
	return append(dst, id...)
}

func appendRefundIndexKey(dst []byte, paymentID, refundID string) []byte {
	dst = append(dst, prefixRefundIndex...)
	dst = append(dst, paymentID...)
	dst = append(dst, 0)
	return append(dst, refundID...)
}

// ageSeconds is t in whole seconds since 0001-01-01 UTC, clamped to
// uint64, so big-endian keys sort by time.
func ageSeconds(t time.Time) uint64 {
	if t.Unix() < secondsToUnix {
		return 0 // before year 1: sorts first
	}
	return uint64(t.Unix() - secondsToUnix)
}

func appendAgeKey(dst []byte, t time.Time, paymentID string) []byte {
	dst = append(dst, prefixAge...)
	dst = binary.BigEndian.AppendUint64(dst, ageSeconds(t))
	return append(dst, paymentID...)
}

// parseAgeKey splits an age key into its seconds and payment id.
func parseAgeKey(k []byte) (sec uint64, paymentID string, ok bool) {
	if len(k) <= len(prefixAge)+8 {
		return 0, "", false
	}
	k = k[len(prefixAge):]
	return binary.BigEndian.Uint64(k), string(k[8:]), true
}

// RefundFinal reports whether a refund's status can no longer change.
func RefundFinal(r *engine.RefundRecord) bool {
	return r.Status == codec.StatusSuccess || r.Status == codec.StatusFail || r.Status == codec.StatusCancelled
}

// refundDone is the compaction test for a refund of a compactable payment:
// final and last changed before the cut-off.
func refundDone(r *engine.RefundRecord, before time.Time) bool {
	return RefundFinal(r) && r.Updated.Before(before)
}

// paymentDone is the compaction test for the payment itself.
func paymentDone(p *engine.PaymentRecord, before time.Time) bool {
	return p.Final() && p.Updated.Before(before)
}
