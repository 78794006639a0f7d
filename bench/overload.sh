#!/usr/bin/env bash
# bench/overload.sh: issue 11.6's overload figure. Pays at the sustainable
# rate R (testdata/scenarios/capacity.yaml) and at 3×R
# (testdata/scenarios/overload.yaml), each on a fresh `paycode serve`
# with default settings (Pebble journal, admission by queueing
# delay) against `paycode sim -latency zero`, alternating RUNS times;
# then goodput (pay/SUCCESS answers/s) and the admitted pays' p99 at 3×
# against 1× (medians; bench/cmd/loadcompare). The aim: goodput at 3× ≥
# 90 % of 1×, admitted p99 at 3× ≤ 2× the 1× p99.
#
#   bench/overload.sh -rate 1000                  R = 1000/s: 1000/s against 3000/s
#   bench/overload.sh -rate 1000 -- -keys.pay-delay-target=-1ms   the same without admission by delay
#
# Options: -rate R (required: the sustainable rate measured on this
# machine, e.g. the highest capacity.yaml step that passes), -runs N (3),
# -duration D (15s), -out DIR; flags after -- go to paycode serve.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE="" RUNS=3 DURATION=15s OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	-rate) RATE=$2; shift ;;
	-runs) RUNS=$2; shift ;;
	-duration) DURATION=$2; shift ;;
	-out) OUT=$2; shift ;;
	--) shift; break ;;
	-h|-help|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "bench/overload.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$RATE" ]; then
	echo "bench/overload.sh: -rate R is required (see -h)" >&2
	exit 2
fi
OUT=${OUT:-$(mktemp -d /tmp/paycode-overload.XXXXXX)}
mkdir -p "$OUT"
. bench/procs.sh

ports_free
build
echo "overload: $RUNS alternations of $RATE/s and $((3 * RATE))/s, $DURATION each; load average $(loadavg); output $OUT"
start_sim
for i in $(seq "$RUNS"); do
	start_serve "$OUT/data-1x-$i" "$@"
	load "1x-$i" "http://$LANE" "$SERVE_PID" testdata/scenarios/capacity.yaml "$RATE" $((200 + i)) -ledgers "$LEDGERS"
	stop "$SERVE_PID"
	start_serve "$OUT/data-3x-$i" "$@"
	load "3x-$i" "http://$LANE" "$SERVE_PID" testdata/scenarios/overload.yaml $((3 * RATE)) $((300 + i)) -ledgers "$LEDGERS"
	stop "$SERVE_PID"
	grep -h '^correctness' "$OUT/1x-$i.txt" "$OUT/3x-$i.txt" || true
	echo "alternation $i done; load average $(loadavg)"
done
"$BIN/loadcompare" -mode overload -a "$OUT/1x-*[0-9]" -b "$OUT/3x-*[0-9]"
echo "load average after: $(loadavg)"
