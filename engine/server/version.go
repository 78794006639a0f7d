package server

import (
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Build is what the binary knows of its own build (debug.ReadBuildInfo).
type Build struct {
	Version   string // the module version, "devel" for a build from a working tree
	Revision  string // VCS revision ("" when built without VCS information)
	Modified  bool   // the working tree had uncommitted changes
	GoVersion string
}

// ReadBuild reads the running binary's build information.
func ReadBuild() Build {
	b := Build{Version: "devel"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		b.Version = v
	}
	b.GoVersion = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the one-line version: "devel+0123456789ab-modified go1.26.0".
func (b Build) String() string {
	v := b.Version
	if len(b.Revision) >= 12 {
		v += "+" + b.Revision[:12]
	}
	if b.Modified {
		v += "-modified"
	}
	if b.GoVersion != "" {
		v += " " + b.GoVersion
	}
	return v
}

// registerBuildInfo adds paycode_build_info: constant 1, with the build
// as labels, so dashboards can tell which binary a node runs.
func registerBuildInfo(reg prometheus.Registerer, b Build, version string) {
	modified := "false"
	if b.Modified {
		modified = "true"
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "paycode_build_info",
		Help: "The running binary's build: version, VCS revision, whether the tree was modified, Go version. Always 1.",
		ConstLabels: prometheus.Labels{"version": version, "revision": b.Revision, "modified": modified,
			"goversion": b.GoVersion},
	})
	g.Set(1)
	reg.MustRegister(g)
}
