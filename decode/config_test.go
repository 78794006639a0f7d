package decode_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/decode"
)

func TestConfigDefaults(t *testing.T) {
	c := decode.DefaultConfig()
	if c.Workers != runtime.GOMAXPROCS(0) || c.QueueSize != decode.DefaultQueueSize ||
		c.Budget != decode.DefaultBudget || c.MaxBytes != decode.DefaultMaxBytes ||
		c.MaxPixels != decode.DefaultMaxPixels || c.DownscaleAbove != decode.DefaultDownscaleAbove ||
		c.Work != decode.DefaultWork || c.AnyText {
		t.Errorf("defaults not applied: %v", c)
	}
	if len(c.Symbologies) != 2 || c.Symbologies[0] != decode.QRCode || c.Symbologies[1] != decode.Code128 {
		t.Errorf("default symbologies %v", c.Symbologies)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	s := c.String()
	for _, want := range []string{"budget=2s", "work=25165824", "any_text=false", "max_pixels=16777216", "symbologies=QR_CODE,CODE_128"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, missing %q", s, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*decode.Config)
		ok     bool
	}{
		{"defaults", func(*decode.Config) {}, true},
		{"no queue", func(c *decode.Config) { c.QueueSize = decode.NoQueue }, true},
		{"zero workers", func(c *decode.Config) { c.Workers = 0 }, false},
		{"negative workers", func(c *decode.Config) { c.Workers = -1 }, false},
		{"queue below NoQueue", func(c *decode.Config) { c.QueueSize = -2 }, false},
		{"negative budget", func(c *decode.Config) { c.Budget = -time.Second }, false},
		{"negative work", func(c *decode.Config) { c.Work = -1 }, false},
		{"zero max bytes", func(c *decode.Config) { c.MaxBytes = 0 }, false},
		{"zero max pixels", func(c *decode.Config) { c.MaxPixels = 0 }, false},
		{"tiny downscale", func(c *decode.Config) { c.DownscaleAbove = 100 }, false},
		{"empty symbologies", func(c *decode.Config) { c.Symbologies = []decode.Symbology{} }, false},
		{"unknown symbology", func(c *decode.Config) { c.Symbologies = []decode.Symbology{decode.QRCode, 200} }, false},
		{"SymbologyUnknown", func(c *decode.Config) { c.Symbologies = []decode.Symbology{decode.SymbologyUnknown} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := decode.DefaultConfig()
			tt.modify(&c)
			err := c.Validate()
			if tt.ok && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !tt.ok && !errors.Is(err, decode.ErrConfig) {
				t.Fatalf("err %v, want ErrConfig", err)
			}
		})
	}
	if _, err := decode.New(decode.Config{Workers: -3}); !errors.Is(err, decode.ErrConfig) {
		t.Errorf("New with bad config: err %v, want ErrConfig", err)
	}
}

// TestNewCopiesSymbologies: the caller's slice is not aliased.
func TestNewCopiesSymbologies(t *testing.T) {
	list := []decode.Symbology{decode.QRCode}
	d := newDecoder(t, decode.Config{Symbologies: list})
	list[0] = decode.Code39
	if got := d.Config().Symbologies; got[0] != decode.QRCode {
		t.Errorf("Decoder config changed with the caller's slice: %v", got)
	}
}

func TestSymbologyNames(t *testing.T) {
	all := append([]decode.Symbology{decode.QRCode}, decode.All1D()...)
	seen := map[string]bool{}
	for _, s := range all {
		name := s.String()
		if seen[name] {
			t.Errorf("duplicate name %q", name)
		}
		seen[name] = true
		back, err := decode.ParseSymbology(name)
		if err != nil || back != s {
			t.Errorf("ParseSymbology(%q) = %v, %v", name, back, err)
		}
		text, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var u decode.Symbology
		if err := u.UnmarshalText(text); err != nil || u != s {
			t.Errorf("text round trip of %v: %v, %v", s, u, err)
		}
	}
	if decode.QRCode.String() != "QR_CODE" || decode.Code128.String() != "CODE_128" {
		t.Errorf("names: %v %v", decode.QRCode, decode.Code128)
	}
	if _, err := decode.ParseSymbology("qr_code"); !errors.Is(err, decode.ErrConfig) {
		t.Errorf("lower-case name accepted: %v", err)
	}
	if _, err := decode.Symbology(99).MarshalText(); err == nil {
		t.Error("MarshalText of an invalid symbology succeeded")
	}
	if s := decode.Symbology(99).String(); s != "Symbology(99)" {
		t.Errorf("String of invalid = %q", s)
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"281001020123456789012345", "281001**************2345"},                 // 24-digit payment code
		{"2810010201234567", "281001******4567"},                                 // 16 digits
		{"28100102012345678901234567890123", "281001**********************0123"}, // 32
		{"281001020123456", "281001*3456"},                                       // 15 digits: not a payment code
		{"281001020123456789012345678901234", "281001*1234"},                     // 33 digits
		{"", ""},
		{"short", "short"},
		{"exactly10!", "exactly10!"},
		{"eleven char", "eleven*char"},
		{"https://example.com/pay?code=123", "https:*=123"},
		{"óóóó1234óóabózz", "óóóó12*bózz"}, // runes, not bytes
		{"2810 0102 0123 4567 8901", "2810 0*8901"},
	}
	for _, tt := range tests {
		if got := decode.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStageNames(t *testing.T) {
	want := []string{"none", "fast", "tryharder", "global", "downscale", "upscale", "contrast", "inverted", "magnify"}
	for i, w := range want {
		if got := decode.Stage(i).String(); got != w {
			t.Errorf("Stage(%d) = %q, want %q", i, got, w)
		}
	}
}
