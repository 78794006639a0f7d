#!/usr/bin/env bash
# bench/run.sh: paycode's hot benchmarks against the committed baseline
# (bench/baseline.txt). See bench/README.md.
#
#   bench/run.sh              full set, -count 6: alloc check + time changes + benchstat
#   bench/run.sh -gate        CI: the pay path's allocation budgets (TestPayHandlerAllocs:
#                             Pebble and in memory), then the alloc-checked set,
#                             -benchtime 2000x -count 1, no benchstat
#   bench/run.sh -update      full set, then write it to bench/baseline.txt
#
# Options: -count N, -benchtime T (override the mode's), -no-benchstat,
# -out DIR (keep raw and clean outputs there; default: a temp dir).
# Exit status 1 when allocs/op grew in a gated (hot) benchmark or a
# benchmark failed; time changes are reported, never fatal.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BASELINE=bench/baseline.txt

# Per package (same index in the three arrays): the -bench regexp of the
# full set and of the gate set (the alloc-checked hot paths, short enough
# for CI at -benchtime 2000x).
PKGS=(./bench/ ./codec/ ./engine/ident/ ./engine/mpp/ ./engine/journal/ ./engine/sign/ ./engine/httpapi/ ./decode/)
FULL=(. . 'IdentifyHit$|TableLookup|IdentifyMiss|CacheSet' . 'Append|EncodePayment|DecodePayment|DecodeRecord' . 'PayByImageHandler' 'DecodeFast')
GATE=(. . 'IdentifyHit$|TableLookup' . 'Append/(Mem|Pebble/nosync)|EncodePayment|DecodePayment|DecodeRecord' 'Sign$|Verify$|ParseSignatureHeader' 'PayByImageHandler' 'DecodeFast/(qr|code128)/(png|gray)$')
# Benchmarks whose allocs/op move with scheduling (parallel lanes, real
# connections, Pebble's background work): reported, never gated.
WATCH='^bench\.(PayHTTP|PayLanes)|^engine/mpp\.ClientPaySim|^engine/httpapi\.PayByImageHandler|^engine/journal\.Append/Pebble/sync'

mode=full count="" benchtime="" benchstat=1 out=""
while [ $# -gt 0 ]; do
	case "$1" in
	-gate) mode=gate ;;
	-update) mode=update ;;
	-count) count=$2; shift ;;
	-benchtime) benchtime=$2; shift ;;
	-no-benchstat) benchstat=0 ;;
	-out) out=$2; shift ;;
	-h|-help|--help) sed -n '2,15p' "$0"; exit 0 ;;
	*) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
case $mode in
gate) count=${count:-1}; benchtime=${benchtime:-2000x}; benchstat=0 ;;
*) count=${count:-6}; benchtime=${benchtime:-500ms} ;;
esac
out=${out:-$(mktemp -d "${TMPDIR:-/tmp}/paycode-bench.XXXXXX")}
mkdir -p "$out"
raw=$out/raw.txt clean=$out/new.txt
: >"$raw"

status=0
if [ "$mode" = gate ]; then
	# The pay path's allocation budgets, on Pebble and on the in-memory
	# journal (bench/allocs_test.go): CI's tests run with -race, which
	# skips them, so the gate runs them.
	echo "bench/run.sh: go test -run '^TestPayHandlerAllocs\$' ./bench/" >&2
	if ! go test -count=1 -run '^TestPayHandlerAllocs$' -v ./bench/ >"$out/allocs.txt" 2>&1; then
		echo "bench/run.sh: ALLOC BUDGET FAILED:" >&2
		grep -E -- '--- FAIL|allocates|panic' "$out/allocs.txt" >&2 || true
		status=1
	else
		grep -E 'allocates' "$out/allocs.txt" | sed 's/^ */bench\/run.sh: /' >&2 || true
	fi
fi
for i in "${!PKGS[@]}"; do
	pkg=${PKGS[$i]} re=${FULL[$i]}
	[ "$mode" = gate ] && re=${GATE[$i]}
	echo "bench/run.sh: $pkg -bench '$re' -benchtime $benchtime -count $count" >&2
	if ! go test -run '^$' -bench "$re" -benchmem -benchtime "$benchtime" -count "$count" "$pkg" >>"$raw" 2>&1; then
		echo "bench/run.sh: benchmarks of $pkg failed:" >&2
		grep -E -- '--- FAIL|FAIL|panic' "$raw" | tail -20 >&2 || true
		status=1
	fi
done
go run ./bench/cmd/benchgate clean <"$raw" >"$clean"
echo "bench/run.sh: results in $clean (raw output: $raw)" >&2
[ $status -eq 0 ] || exit 1

if [ "$mode" = update ]; then
	{
		echo "# bench/baseline.txt: written by bench/run.sh -update on $(date -u +%Y-%m-%dT%H:%MZ)"
		echo "# $(go version); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
		echo "# -count $count -benchtime $benchtime; commit $(git rev-parse --short HEAD 2>/dev/null || echo '?') (plus the working tree)"
		cat "$clean"
	} >"$out/baseline.txt"
	if [ -f "$BASELINE" ]; then
		echo "bench/run.sh: changes against the old baseline (not a gate in -update):"
		go run ./bench/cmd/benchgate compare -watch "$WATCH" -missing "$BASELINE" "$clean" || true
	fi
	cp "$out/baseline.txt" "$BASELINE"
	echo "bench/run.sh: wrote $BASELINE; review and commit it"
	exit 0
fi

if [ ! -f "$BASELINE" ]; then
	echo "bench/run.sh: no $BASELINE: run bench/run.sh -update first" >&2
	exit 2
fi
gate_status=0
missing=-missing
[ "$mode" = gate ] && missing=""
go run ./bench/cmd/benchgate compare -watch "$WATCH" $missing "$BASELINE" "$clean" || gate_status=$?
if [ $benchstat -eq 1 ]; then
	echo
	echo "benchstat $BASELINE $clean:"
	go run "$BENCHSTAT" "$BASELINE" "$clean" ||
		echo "bench/run.sh: benchstat unavailable (module proxy?); the alloc check above stands" >&2
fi
exit $gate_status
