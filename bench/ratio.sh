#!/usr/bin/env bash
# bench/ratio.sh: paycode's CPU per pay against a bare fasthttp server's
# CPU per request, under the same generator at the same rate, as three
# processes on this machine (issue 16's procedure): `paycode serve` (Pebble
# journal, serve's defaults) + `paycode sim -latency zero` +
# `paycode load -scenario testdata/scenarios/capacity.yaml`, then
# bench/cmd/bareserver under the same `paycode load`; alternating RUNS
# times, then the medians and the ratio (bench/cmd/loadcompare).
#
#   bench/ratio.sh                       3000/s, 15 s steps, 3 alternations, a fresh store per step
#   bench/ratio.sh -rate 2000 -runs 5
#   bench/ratio.sh -fill 1000000         fill one store with a million payments first, then
#                                        measure on that store (a node that has run for a day)
#   bench/ratio.sh -store /tmp/r/store   measure on a copy of a store filled before
#                                        (by -fill N -out /tmp/r), restarted per step;
#                                        not with -fill, nor with -out /tmp/r (its copy goes to OUT/store)
#   bench/ratio.sh -- -engine.async-outcomes=true   flags after -- go to paycode serve
#   SERVE_ENV=GOGC=400 bench/ratio.sh    environment of paycode serve only
#   BARE_ENV=GODEBUG=schedtrace=2147483647 bench/ratio.sh
#                                        environment of the bare server and the floor only (paycode's
#                                        commands keep Go's sysmon awake themselves: cmd/paycode/sysmon.go;
#                                        this gives the yardsticks the same, for a like-for-like ratio)
#   PAYCODE_SYSMON=default bench/ratio.sh  paycode's serve, sim and load with Go's default sysmon
#   bench/ratio.sh -floor                alternate three: paycode, bench/cmd/floorserver (a pay's
#                                        I/O with the same libraries, none of paycode's logic), bare;
#                                        prints paycode/bare, floor/bare and paycode/floor
#   bench/ratio.sh -floor -syscalls      also count each server's system calls (perf stat)
#
# Options: -rate R, -runs N, -duration D (per step), -fill N, -fill-rate R
# (2000), -floor, -syscalls (count fdatasync, write, pwrite64, read,
# futex, epoll_pwait and nanosleep of every server over the load's
# sending window: root or perf_event_paranoid ≤ -1; skipped otherwise), -store DIR (copied to OUT/store first), -out DIR (kept: every run's report, logs, binaries; default a
# new temporary directory), -bin DIR (use the paycode, bareserver and
# loadcompare binaries, and floorserver for -floor, already in DIR instead of building: A/B two builds
# in one sitting, or edit the tree while a run goes on). Prints the load
# average before and after, and the disk's fdatasync quantiles first
# (bench/cmd/fsyncprobe): on a shared machine the figures are only as
# good as it was quiet. SIM_PORT, LANE_PORT, ADMIN_PORT and BARE_PORT
# (7301, 8380, 9380, 8480; FLOOR_PORT 8580) move the listeners, for two runs at once; a
# run refuses to start on ports in use.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=3000 RUNS=3 DURATION=15s FILL=0 FILL_RATE=2000 OUT="" PREBUILT="" STORE="" FLOORRUNS="" SYSCALLS=""
while [ $# -gt 0 ]; do
	case "$1" in
	-rate) RATE=$2; shift ;;
	-runs) RUNS=$2; shift ;;
	-duration) DURATION=$2; shift ;;
	-fill) FILL=$2; shift ;;
	-fill-rate) FILL_RATE=$2; shift ;;
	-out) OUT=$2; shift ;;
	-bin) PREBUILT=$2; shift ;;
	-store) STORE=$2; shift ;;
	-floor) FLOORRUNS=1 ;;
	-syscalls) SYSCALLS=1 ;;
	--) shift; break ;;
	-h|-help|--help) sed -n '2,/^set -euo/{/^#/p}' "$0"; exit 0 ;;
	*) echo "bench/ratio.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
	esac
	shift
done
# -store measures on a store filled before; -fill fills a new one. Both at
# once would fill the copy further and measure neither as asked: refused.
if [ -n "$STORE" ] && [ "$FILL" -gt 0 ]; then
	echo "bench/ratio.sh: -store and -fill exclude each other: -fill N -out DIR fills DIR/store, then -store DIR/store measures on a copy of it (see -h)" >&2
	exit 2
fi
if [ -n "$STORE" ] && [ ! -d "$STORE" ]; then
	echo "bench/ratio.sh: -store $STORE is not a directory (a store filled by -fill N -out DIR is DIR/store)" >&2
	exit 2
fi
OUT=${OUT:-$(mktemp -d /tmp/paycode-ratio.XXXXXX)}
mkdir -p "$OUT"
# The copy goes to OUT/store, which is emptied first: never the store itself.
if [ -n "$STORE" ] && [ "$(realpath "$STORE")" = "$(realpath -m "$OUT/store")" ]; then
	echo "bench/ratio.sh: -store $STORE is OUT/store, where its copy would go (emptied first): give another -out" >&2
	exit 2
fi
. bench/procs.sh
SCENARIO=testdata/scenarios/capacity.yaml

ports_free
if [ -n "$PREBUILT" ]; then
	BIN=$PREBUILT
else
	build
fi
if [ -n "$FLOORRUNS" ] && [ ! -x "$BIN/floorserver" ]; then
	echo "bench/ratio.sh: -floor needs $BIN/floorserver (go build -o $BIN/floorserver ./bench/cmd/floorserver)" >&2
	exit 2
fi
SYSCALL_EVENTS=""
if [ -n "$SYSCALLS" ]; then
	if perf stat -e syscalls:sys_enter_fdatasync true >/dev/null 2>&1; then
		SYSCALL_EVENTS=$(echo fdatasync,write,pwrite64,read,futex,epoll_pwait,nanosleep | sed 's/\([a-z_0-9]*\)/syscalls:sys_enter_\1/g')
	else
		echo "bench/ratio.sh: perf cannot count system calls here (root, or perf_event_paranoid <= -1): -syscalls skipped" >&2
	fi
fi
echo "ratio: $RUNS alternations at $RATE/s, $DURATION each; load average $(loadavg); output $OUT"
fsync_probe "$OUT"
start_sim
store=""
if [ -n "$STORE" ]; then
	store=$OUT/store
	rm -rf "$store"
	cp -r "$STORE" "$store"
	echo "measuring on a copy of $STORE"
fi
if [ "$FILL" -gt 0 ]; then
	store=$OUT/store
	# The fill is not measured: admission by delay is off for it, so a
	# busy machine slows the fill instead of shedding it.
	start_serve "$store" "$@" -keys.pay-delay-target=-1ms
	secs=$(( (FILL + FILL_RATE - 1) / FILL_RATE ))
	echo "filling the store with $FILL payments at $FILL_RATE/s ($secs s)"
	DURATION=${secs}s load fill "http://$LANE" "$SERVE_PID" "$SCENARIO" "$FILL_RATE" 1000 -no-check
	grep -E '^requested|pay/SUCCESS' "$OUT/fill.txt" || true
	stop "$SERVE_PID"
fi
for i in $(seq "$RUNS"); do
	data=${store:-$OUT/data-$i}
	start_serve "$data" "$@"
	load "paycode-$i" "http://$LANE" "$SERVE_PID" "$SCENARIO" "$RATE" $((100 + i)) -ledgers "$LEDGERS"
	stop "$SERVE_PID"
	start_bare
	load "bare-$i" "http://$BARE" "$BARE_PID" "$SCENARIO" "$RATE" $((100 + i)) -no-check
	stop "$BARE_PID"
	if [ -n "$FLOORRUNS" ]; then
		rm -rf "$OUT/floordata-$i"
		start_floor "$OUT/floordata-$i"
		load "floor-$i" "http://$FLOOR" "$FLOOR_PID" "$SCENARIO" "$RATE" $((200 + i)) -no-check
		stop "$FLOOR_PID"
	fi
	echo "alternation $i done; load average $(loadavg)"
done
if [ -n "$FLOORRUNS" ]; then
	"$BIN/loadcompare" -mode cpu -a "$OUT/paycode-*[0-9]" -b "$OUT/bare-*[0-9]" -c "$OUT/floor-*[0-9]"
else
	"$BIN/loadcompare" -mode cpu -a "$OUT/paycode-*[0-9]" -b "$OUT/bare-*[0-9]"
fi
echo "user and system CPU per request over each load window (/proc/PID/stat)${SYSCALL_EVENTS:+, system calls per request (perf stat)}:"
for i in $(seq "$RUNS"); do
	cpu_split "paycode-$i" "floor-$i" "bare-$i"
done
echo "load average after: $(loadavg)"
