#!/usr/bin/env bash
# A/B of the decoder's in-process speed: decode's test binary built at REV
# (in a temporary git worktree) against the one built from this checkout,
# run alternately ROUNDS times on one core, then the median of each
# benchmark's ns/op (and p50-ms, cpu-ms/frame, allocs/op where reported)
# per build and their ratio (this checkout / REV; below 1 is faster).
# Alternating the two builds in one sitting keeps the machine's other
# load out of the ratio. Not run in CI.
#
#   decode/compare/ab.sh 81b3199                 # 640x480 QR, raw gray and JPEG, total
#   ROUNDS=15 decode/compare/ab.sh main
#   BENCH='Classes' ARGS='-test.benchtime=1x' decode/compare/ab.sh main
#   PAYCODE_BENCH_CLASSES=negative,qr/blur BENCH=Classes decode/compare/ab.sh main
#
# BENCH is the -bench pattern (default the Stages totals the speed goals
# are stated in), ROUNDS the number of alternations (default 9), ARGS
# extra test-binary flags. The environment reaches both binaries.
set -euo pipefail

rev=${1:?usage: decode/compare/ab.sh REV (a commit, branch or tag to compare this checkout with)}
BENCH=${BENCH:-'Stages/qr/640x480/(gray|jpeg)/total'}
ROUNDS=${ROUNDS:-9}
ARGS=${ARGS:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
git rev-parse --verify --quiet "$rev^{commit}" >/dev/null || {
	echo "ab.sh: $rev is not a commit" >&2
	exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/decodeab.XXXXXX")
cleanup() {
	git worktree remove --force "$work/old" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

git worktree add --detach --quiet "$work/old" "$rev"
(cd "$work/old" && go test -c -o "$work/a.test" ./decode/)
go test -c -o "$work/b.test" ./decode/
dirty=""
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
	dirty=" (with uncommitted changes)"
fi

# bench BIN DIR: one run of BIN from the package directory DIR (its
# testdata), appended to $work/<a|b>.out.
bench() {
	(cd "$2" && "$work/$1.test" -test.run '^$' -test.bench "$BENCH" -test.cpu 1 \
		-test.benchmem -test.count 1 $ARGS) >>"$work/$1.out"
}
: >"$work/a.out"
: >"$work/b.out"
for i in $(seq "$ROUNDS"); do
	bench a "$work/old/decode"
	bench b "$root/decode"
	printf '.' >&2
done
echo >&2
echo "A = $rev ($(git rev-parse --short "$rev")), B = this checkout ($(git rev-parse --short HEAD)$dirty); $ROUNDS alternations, -cpu 1, load $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per benchmark and unit, then A, B and B/A side by side.
awk '
function median(key,   n, i, j, t, v) {
	n = split(vals[key], v, " ")
	for (i = 2; i <= n; i++) { t = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j+1] = v[j]; v[j+1] = t }
	return n % 2 ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2
}
FNR == 1 { side = (FILENAME ~ /a\.out$/) ? "A" : "B" }
/^Benchmark/ {
	name = $1
	for (i = 3; i < NF; i += 2) {
		unit = $(i+1)
		if (unit !~ /^(ns\/op|p50-ms|ms\/frame|cpu-ms\/frame|allocs\/op|%read)$/) continue
		if (unit == "ns/op" && $i == 0) continue
		key = side SUBSEP name SUBSEP unit
		vals[key] = vals[key] " " $i
		if (!((name SUBSEP unit) in seen)) { seen[name SUBSEP unit] = 1; order[++n] = name SUBSEP unit }
	}
}
END {
	printf "%-48s %-14s %12s %12s %7s\n", "benchmark", "unit", "A", "B", "B/A"
	for (k = 1; k <= n; k++) {
		split(order[k], p, SUBSEP)
		a = ("A" SUBSEP order[k]) in vals ? median("A" SUBSEP order[k]) : ""
		b = ("B" SUBSEP order[k]) in vals ? median("B" SUBSEP order[k]) : ""
		r = (a != "" && b != "" && a + 0 != 0) ? sprintf("%.2f", b / a) : "-"
		printf "%-48s %-14s %12s %12s %7s\n", p[1], p[2], a, b, r
	}
}' "$work/a.out" "$work/b.out"
