package load

import (
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// StagePacer paces an attack through a scenario's stages: in each, a
// constant rate or a linear ramp between two rates, like vegeta's
// ConstantPacer and LinearPacer, chained so each stage starts where the
// previous one ended. It is open loop: hit n is due at the time the
// integral of the rate reaches n, whatever happened to earlier hits, and a
// generator that fell behind sends at once until it catches up. Pace
// reports stop after the last stage's hits.
type StagePacer struct {
	stages []pacedStage
	total  float64 // hits of all stages
}

type pacedStage struct {
	start    time.Duration
	dur      float64 // seconds
	r0, r1   float64 // rate at start and end, hits/s
	before   float64 // hits of the earlier stages
	hits     float64 // hits of this stage
	duration time.Duration
}

var _ vegeta.Pacer = (*StagePacer)(nil)

// NewStagePacer returns the pacer of stages.
func NewStagePacer(stages []Stage) *StagePacer {
	p := &StagePacer{}
	var start time.Duration
	for _, st := range stages {
		d := st.Duration.Seconds()
		ps := pacedStage{start: start, dur: d, r0: st.Rate, r1: st.End(), before: p.total, duration: st.Duration}
		ps.hits = (ps.r0 + ps.r1) / 2 * d
		p.total += ps.hits
		p.stages = append(p.stages, ps)
		start += st.Duration
	}
	return p
}

// Hits is how many hits the stages send in all (rounded down).
func (p *StagePacer) Hits() uint64 { return uint64(p.total + 1e-9) }

// Pace implements vegeta.Pacer.
func (p *StagePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	next := float64(hits) + 1
	if next > p.total+1e-9 {
		return 0, true
	}
	at := p.timeOf(next)
	return at - elapsed, false // negative: behind, send at once
}

// timeOf is when the cumulative hit count reaches n.
func (p *StagePacer) timeOf(n float64) time.Duration {
	for i := range p.stages {
		s := &p.stages[i]
		if n > s.before+s.hits && i < len(p.stages)-1 {
			continue
		}
		k := n - s.before // hits into this stage
		var t float64
		a := (s.r1 - s.r0) / (2 * s.dur) // H(t) = a t² + r0 t
		switch {
		case math.Abs(a) < 1e-12:
			if s.r0 <= 0 {
				t = s.dur
			} else {
				t = k / s.r0
			}
		default:
			// a t² + r0 t − k = 0, the root within [0, dur].
			disc := s.r0*s.r0 + 4*a*k
			if disc < 0 {
				disc = 0
			}
			t = (-s.r0 + math.Sqrt(disc)) / (2 * a)
		}
		t = min(max(t, 0), s.dur)
		return s.start + time.Duration(t*float64(time.Second))
	}
	return 0
}

// Rate implements vegeta.Pacer: the requested rate at elapsed (0 after
// the last stage).
func (p *StagePacer) Rate(elapsed time.Duration) float64 {
	for _, s := range p.stages {
		if elapsed >= s.start && elapsed < s.start+s.duration {
			f := (elapsed - s.start).Seconds() / s.dur
			return s.r0 + (s.r1-s.r0)*f
		}
	}
	return 0
}

// Expected is how many hits are due by elapsed: the requested count the
// achieved rate is compared with.
func (p *StagePacer) Expected(elapsed time.Duration) float64 {
	var n float64
	for _, s := range p.stages {
		if elapsed <= s.start {
			break
		}
		t := min((elapsed - s.start).Seconds(), s.dur)
		n = s.before + s.r0*t + (s.r1-s.r0)/(2*s.dur)*t*t
	}
	return n
}
