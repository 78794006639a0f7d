package ident_test

import (
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/engine/ident"
)

func TestConfigDefaults(t *testing.T) {
	var c ident.Config
	c.EnsureDefaults()
	want := ident.Config{
		TTL: ident.DefaultTTL, NegativeTTL: ident.DefaultNegativeTTL, RefreshAhead: ident.DefaultTTL / 5,
		MaxEntries: ident.DefaultMaxEntries, SourceTimeout: ident.DefaultSourceTimeout, MaxConns: ident.DefaultMaxConns,
	}
	if c.String() != want.String() {
		t.Errorf("defaults = %v, want %v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	// A set field stays; RefreshAhead follows the TTL it is given.
	c = ident.Config{TTL: time.Minute, RefreshAhead: -1}
	c.EnsureDefaults()
	if c.TTL != time.Minute || c.RefreshAhead != -1 {
		t.Errorf("EnsureDefaults overwrote set fields: %v", c)
	}
	c = ident.Config{TTL: time.Minute}
	if c.EnsureDefaults().RefreshAhead != 12*time.Second {
		t.Errorf("RefreshAhead = %v, want TTL/5", c.RefreshAhead)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*ident.Config)
		want string // substring of the error, "" = valid
	}{
		{"defaults", func(*ident.Config) {}, ""},
		{"rules file", func(c *ident.Config) { c.RulesFile = "routing.yaml" }, ""},
		{"service", func(c *ident.Config) { c.ServiceURL = "https://hub.internal:9300/ident" }, ""},
		{"both sources", func(c *ident.Config) { c.RulesFile, c.ServiceURL = "r.yaml", "http://hub" }, "exclusive"},
		{"service URL without scheme", func(c *ident.Config) { c.ServiceURL = "hub:9300" }, "http or https"},
		{"service URL with credentials", func(c *ident.Config) { c.ServiceURL = "http://u:p@hub" }, "credentials"},
		{"negative TTL", func(c *ident.Config) { c.TTL = -1 }, "TTL must be positive"},
		{"negative negative TTL", func(c *ident.Config) { c.NegativeTTL = -1 }, "NegativeTTL"},
		{"refresh ahead = TTL", func(c *ident.Config) { c.RefreshAhead = c.TTL }, "RefreshAhead"},
		{"refresh ahead disabled", func(c *ident.Config) { c.RefreshAhead = -1 }, ""},
		{"no entries", func(c *ident.Config) { c.MaxEntries = -1 }, "MaxEntries"},
		{"huge cache", func(c *ident.Config) { c.MaxEntries = 1 << 40 }, "MaxEntries"},
		{"zero timeout", func(c *ident.Config) { c.SourceTimeout = -time.Second }, "SourceTimeout"},
		{"no connections", func(c *ident.Config) { c.MaxConns = -1 }, "MaxConns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c ident.Config
			c.EnsureDefaults()
			tt.mod(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want an error about %q", err, tt.want)
			}
		})
	}
	// Every problem is reported at once.
	c := ident.Config{TTL: -1, MaxConns: -1}
	c.EnsureDefaults()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "TTL") || !strings.Contains(err.Error(), "MaxConns") {
		t.Errorf("Validate = %v, want both problems", err)
	}
}

func TestConfigStringRedacts(t *testing.T) {
	c := ident.Config{ServiceURL: "http://user:secret@hub:9300/ident?token=abc"}
	c.EnsureDefaults()
	s := c.String()
	if strings.Contains(s, "secret") || strings.Contains(s, "token") || strings.Contains(s, "abc") {
		t.Errorf("String leaks: %s", s)
	}
	c = ident.Config{ServiceURL: "https://hub:9300/ident"}
	if s := c.String(); !strings.Contains(s, "service https://hub:9300/ident") {
		t.Errorf("String = %s", s)
	}
	c = ident.Config{RulesFile: "/etc/paycode/routing.yaml"}
	if s := c.String(); !strings.Contains(s, "file /etc/paycode/routing.yaml") {
		t.Errorf("String = %s", s)
	}
}
