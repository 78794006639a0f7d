package engine

import (
	"strconv"
	"sync/atomic"
	"time"
)

// idGen makes payment and refund ids: 32 digits, like Antom's, made of the
// process start time (yyyyMMddHHmmss, UTC), the two-digit node number and a
// 16-digit sequence whose first three digits are the start's millisecond.
// Ids are unique per node across restarts, even two restarts within one
// second (a process does not start twice in one millisecond), as long as
// a process makes fewer than 10^13 of them; recovery also moves the
// sequence past the ids it finds with its own prefix.
type idGen struct {
	prefix [16]byte
	seq    atomic.Uint64
}

// msSeqBase spaces the sequences of processes started within one second.
const msSeqBase = 1e13

func newIDGen(start time.Time, node int) *idGen {
	g := &idGen{}
	b := start.UTC().AppendFormat(g.prefix[:0], "20060102150405")
	b = append(b, byte('0'+node/10), byte('0'+node%10))
	copy(g.prefix[:], b)
	g.seq.Store(uint64(start.Nanosecond()/1e6) * msSeqBase)
	return g
}

// next returns a fresh id. One allocation: the string itself.
func (g *idGen) next() string {
	n := g.seq.Add(1)
	var buf [32]byte
	copy(buf[:16], g.prefix[:])
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], n, 10)
	pad := 16 - len(d)
	for i := 0; i < pad; i++ {
		buf[16+i] = '0'
	}
	copy(buf[16+pad:], d)
	return string(buf[:])
}

// seqOf returns the sequence part of an id made by this generator's
// prefix (the same process start second and node).
func (g *idGen) seqOf(id string) (uint64, bool) {
	if len(id) != 32 || id[:16] != string(g.prefix[:]) {
		return 0, false
	}
	n, err := strconv.ParseUint(id[16:], 10, 64)
	return n, err == nil
}

// atLeast moves the sequence past n, so ids recovered from a journal
// written by a process that started in the same second are not reused.
func (g *idGen) atLeast(n uint64) {
	for {
		cur := g.seq.Load()
		if cur >= n || g.seq.CompareAndSwap(cur, n) {
			return
		}
	}
}
