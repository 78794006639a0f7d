package load_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/loadtest/load"
)

func TestParseScenario(t *testing.T) {
	const stage = "stages: [{duration: 2s, rate: 10}]\n"
	tests := []struct {
		name, yaml string
		wantErr    []string // substrings, each must appear
	}{
		{"minimal", stage, nil},
		{"ramp", "stages: [{duration: 2s, rate: 10, to: 100}, {duration: 1s, rate: 100}]", nil},
		{"no stages", "name: x", []string{"stages: at least one stage"}},
		{"zero duration", "stages: [{rate: 10}]", []string{"stages[0].duration"}},
		{"named stage", "stages: [{name: peak, rate: 10}]", []string{"stages[0] (peak).duration"}},
		{"negative rate", "stages: [{duration: 1s, rate: -1}]", []string{"stages[0].rate"}},
		{"silent stage", "stages: [{duration: 1s, rate: 0}]", []string{"must send something"}},
		{"unknown field", stage + "bogus: 1", []string{"bogus"}},
		{"bad prefix", stage + "wallets: {\"2810\": 1}", []string{"not a 6-digit routing prefix"}},
		{"zero wallet weights", stage + "wallets: {\"281001\": 0}", []string{"wallets: weights"}},
		{"unknown outcome", stage + "outcomes: {sucess: 1}", []string{`unknown outcome "sucess"`, "known: balance"}},
		{"share above 1", stage + "invalid: 1.5", []string{"invalid: a share"}},
		{"follow-ups above 1", stage + "followUp: {cancel: 0.6, refund: 0.6}", []string{"cancel + refund + replay"}},
		{"amounts", stage + "amount: {min: 10, max: 5}", []string{"amount:"}},
		{"workers", stage + "limits: {workers: 10, maxWorkers: 5}", []string{"workers <= maxWorkers"}},
		{"budget", stage + "budgets: ['pay.p99<=fast']", []string{"budgets:", "needs a duration"}},
		{"several at once", "stages: [{rate: -1}]\ninvalid: 2", []string{"duration", "rate", "invalid"}},
		{"image", stage + "image: 0.1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := load.ParseScenario([]byte(tt.yaml))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if s.Limits.Workers != load.DefaultWorkers || s.FollowUp.PollEvery != load.DefaultPollEvery || len(s.Outcomes) == 0 {
					t.Fatalf("defaults not filled: %+v", s)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, load.ErrScenario) {
				t.Errorf("error does not wrap ErrScenario: %v", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestScenarioFiles: the documented examples and the demo parse and
// describe what they say.
func TestScenarioFiles(t *testing.T) {
	files, err := filepath.Glob("../../testdata/scenarios/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("scenario files: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := load.ReadScenario(f); err != nil {
			t.Errorf("%v", err)
		}
	}
	d := load.DemoScenario()
	if d.Duration() != 20*time.Second {
		t.Errorf("demo lasts %v, want 20s", d.Duration())
	}
	if _, err := os.Stat("demo.yaml"); err != nil {
		t.Fatal(err)
	}
}

func TestScale(t *testing.T) {
	s, err := load.ParseScenario([]byte("stages: [{duration: 10s, rate: 100, to: 200}, {duration: 30s, rate: 200}]"))
	if err != nil {
		t.Fatal(err)
	}
	s.ScaleTo(20 * time.Second)
	if s.Stages[0].Duration != 5*time.Second || s.Stages[1].Duration != 15*time.Second {
		t.Fatalf("ScaleTo: %v %v", s.Stages[0].Duration, s.Stages[1].Duration)
	}
	s.ScaleRate(0.5)
	if s.Stages[0].Rate != 50 || s.Stages[0].End() != 100 || s.Stages[1].Rate != 100 {
		t.Fatalf("ScaleRate: %+v", s.Stages)
	}
	if got := s.Requests(); got != 75*5+100*15 {
		t.Fatalf("Requests %v", got)
	}
}
