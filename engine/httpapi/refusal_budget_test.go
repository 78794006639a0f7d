package httpapi

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestRefusalSignsBoundedWhateverTheClients: the refusal budget does not
// grow with the configuration. Whether one or a thousand client ids are
// configured, a flood of ever-new refusals of every one of them and of
// made-up ids gets at most DefaultClientsRefusalSigns +
// DefaultRefusalSigns signatures a second (plus, with more ids than
// that, one each at once); and a flood of the other configured ids never
// spends a merchant's own share.
func TestRefusalSignsBoundedWhateverTheClients(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	for _, n := range []int{1, 3, 10, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			cfg := Security{Clients: map[string]*Client{}}
			ids := make([][]byte, n)
			for i := range ids {
				ids[i] = fmt.Appendf(nil, "M%04d", i)
				cfg.Clients[string(ids[i])] = &Client{Policy: PolicyNone}
			}
			g := newGuard(cfg, &guardState{refusalSigns: rate.NewLimiter(DefaultRefusalSigns, DefaultRefusalSigns)}, nil)
			// flood asks, at now, for 50 new signatures of each of ids
			// and of 500 made-up ids, and returns how many it got.
			flood := func(now time.Time, ids [][]byte) int {
				signed := 0
				for range 50 {
					for _, id := range ids {
						if g.allowRefusalSign(id, now) {
							signed++
						}
					}
				}
				for i := range 500 {
					if g.allowRefusalSign(fmt.Appendf(nil, "FLOOD-%d", i), now) {
						signed++
					}
				}
				return signed
			}
			burst := DefaultClientsRefusalSigns + DefaultRefusalSigns + max(0, n-DefaultClientsRefusalSigns)
			if got := flood(t0, ids); got > burst {
				t.Fatalf("%d configured ids: %d refusals signed at once; want at most %d", n, got, burst)
			}
			// Ten seconds of flood, one round each 100 ms: the rate.
			signed := 0
			for i := 1; i <= 100; i++ {
				signed += flood(t0.Add(time.Duration(i)*100*time.Millisecond), ids)
			}
			if want := 10*(DefaultClientsRefusalSigns+DefaultRefusalSigns) + 1; signed > want {
				t.Fatalf("%d configured ids: %d refusals signed in 10 s of flood; want at most %d", n, signed, want)
			}
			// The first merchant, idle while all the others flood, has its
			// share again within one share's period (1/50 s per configured
			// id).
			later := t0.Add(11 * time.Second)
			flood(later, ids[1:])
			if !g.allowRefusalSign(ids[0], later.Add(time.Duration(n)*time.Second/DefaultClientsRefusalSigns)) {
				t.Fatalf("%d configured ids: a merchant's refusal went unsigned while the other ids flooded", n)
			}
		})
	}
}
