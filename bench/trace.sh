#!/usr/bin/env bash
# bench/trace.sh: where paycode's time and tail go at a given rate. Runs
# `paycode serve` (defaults: Pebble journal) + `paycode sim
# -latency zero` + `paycode load` (capacity.yaml) for DURATION, and
# halfway through takes a runtime trace and a CPU profile of serve from
# its admin listener (/debug/pprof/trace, /debug/pprof/profile). Prints
# the CPU profile's top functions and, from the trace, the top of the
# scheduler-latency, syscall and synchronisation-blocking profiles
# (`go tool trace -pprof=…`). First the disk's fdatasync quantiles
# (bench/cmd/fsyncprobe: the floor under a synced pay's latency). Before
# the trace, where `perf` may read the kernel's syscall tracepoints
# (root, or perf_event_paranoid ≤ -1), it counts serve's system calls for the same length and prints them per
# admitted pay and per pay request in that window (fdatasync per
# admitted pay: the share of a WAL fsync; write and read: the socket and
# WAL writes, which shed requests make too).
#
#   bench/trace.sh                 1000/s, 20 s, 4 s trace and profile
#   bench/trace.sh -rate 3000 -- -sync-window 1ms    flags after -- go to paycode serve
#   bench/trace.sh -rate 5000 -store /tmp/r/store    on a copy of a filled store
#                                                    (bench/ratio.sh -fill N -out /tmp/r)
#   bench/trace.sh -rate 3000 -floor                 the same of bench/cmd/floorserver (a
#                                                    pay's I/O, none of paycode's logic): its
#                                                    profile is what serve's is measured against
#
# Options: -rate R, -duration D, -seconds S (trace and profile length),
# -out DIR (kept: trace.out, cpu.pprof, the *.pprof from the trace, the
# load report), -store DIR (serve on a copy of the Pebble store in DIR
# instead of an empty one), -floor (profile the floor server instead of
# serve: CPU profile and trace from its -pprof listener, system calls per
# request answered; flags after -- go to floorserver), -bin DIR (use the binaries in DIR instead of building; as
# bench/ratio.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=1000 DURATION=20s SECONDS_=4 OUT="" PREBUILT="" STORE="" FLOORRUN=""
while [ $# -gt 0 ]; do
	case "$1" in
	-rate) RATE=$2; shift ;;
	-duration) DURATION=$2; shift ;;
	-seconds) SECONDS_=$2; shift ;;
	-out) OUT=$2; shift ;;
	-bin) PREBUILT=$2; shift ;;
	-store) STORE=$2; shift ;;
	-floor) FLOORRUN=1 ;;
	--) shift; break ;;
	-h|-help|--help) sed -n '2,/^set -euo/{/^#/p}' "$0"; exit 0 ;;
	*) echo "bench/trace.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
	esac
	shift
done
if [ -n "$STORE" ] && [ ! -d "$STORE" ]; then
	echo "bench/trace.sh: -store $STORE is not a directory (a store filled by bench/ratio.sh -fill N -out DIR is DIR/store)" >&2
	exit 2
fi
OUT=${OUT:-$(mktemp -d /tmp/paycode-trace.XXXXXX)}
mkdir -p "$OUT"
# The copy goes to OUT/data, which is emptied first: never the store itself.
if [ -n "$STORE" ] && [ "$(realpath "$STORE")" = "$(realpath -m "$OUT/data")" ]; then
	echo "bench/trace.sh: -store $STORE is OUT/data, where its copy would go (emptied first): give another -out" >&2
	exit 2
fi
. bench/procs.sh

ports_free
if [ -n "$PREBUILT" ]; then
	BIN=$PREBUILT
else
	build
fi
echo "trace: $RATE/s for $DURATION, ${SECONDS_}s trace and profile; load average $(loadavg); output $OUT"
fsync_probe "$OUT"
start_sim
if [ -n "$STORE" ]; then
	rm -rf "$OUT/data"
	cp -r "$STORE" "$OUT/data"
fi
if [ -n "$FLOORRUN" ]; then
	# The floor in serve's place: its pprof listener is serve's admin
	# address, its request count its own (it answers every pay).
	start_floor "$OUT/data" -pprof "$ADMIN" "$@"
	SERVE_PID=$FLOOR_PID
	pays_answered() { curl -s "http://$ADMIN/pays"; }
	load run "http://$FLOOR" "$SERVE_PID" testdata/scenarios/capacity.yaml "$RATE" 400 -no-check &
else
	start_serve "$OUT/data" "$@"
	load run "http://$LANE" "$SERVE_PID" testdata/scenarios/capacity.yaml "$RATE" 400 -ledgers "$LEDGERS" &
fi
LOADPID=$!
half=$(( ${DURATION%s} / 2 - SECONDS_ / 2 ))
SYSCALLS=fdatasync,fsync,write,read,futex,epoll_pwait
if [ "$half" -ge $((SECONDS_ + 2)) ] && perf stat -e syscalls:sys_enter_fdatasync true >/dev/null 2>&1; then
	sleep 1
	read -r adm0 all0 <<<"$(pays_answered)"
	read -r ut0 st0 <<<"$(cpu_ticks "$SERVE_PID")"
	perf stat -x, -o "$OUT/syscalls.txt" -p "$SERVE_PID" \
		-e "$(echo "$SYSCALLS" | sed 's/\([a-z_0-9]*\)/syscalls:sys_enter_\1/g')" -- sleep "$SECONDS_" 2>/dev/null || true
	read -r adm1 all1 <<<"$(pays_answered)"
	read -r ut1 st1 <<<"$(cpu_ticks "$SERVE_PID")"
	half=$((half - SECONDS_ - 1))
fi
sleep "$((half > 1 ? half : 1))"
curl -s -o "$OUT/trace.out" "http://$ADMIN/debug/pprof/trace?seconds=$SECONDS_" &
TRACEPID=$!
curl -s -o "$OUT/cpu.pprof" "http://$ADMIN/debug/pprof/profile?seconds=$SECONDS_"
wait "$TRACEPID" "$LOADPID" || true
curl -s "http://$ADMIN/metrics" | grep -E '^go_gc_duration_seconds|^go_memstats_heap_alloc_bytes|^go_goroutines' >"$OUT/gc.txt" || true
stop "$SERVE_PID"
grep -E '^requested|^CPU|^ +pay ' "$OUT/run.txt" || true
if [ -s "$OUT/syscalls.txt" ] && [ "$((adm1 - adm0))" -gt 0 ]; then
	echo "== system calls of serve in ${SECONDS_}s before the trace: $((adm1 - adm0)) pays admitted of $((all1 - all0)) (the rest shed)"
	awk -F, -v n=$((adm1 - adm0)) -v a=$((all1 - all0)) '$3 ~ /sys_enter_/ { sub(/.*sys_enter_/, "", $3)
		printf "  %-12s %8d  %6.2f per admitted pay  %6.2f per pay request\n", $3, $1, $1 / n, $1 / a }' "$OUT/syscalls.txt"
	tick=$(getconf CLK_TCK)
	awk -v u=$((ut1 - ut0)) -v s=$((st1 - st0)) -v t="$tick" -v n=$((adm1 - adm0)) 'BEGIN {
		printf "  serve CPU in the window: user %.2fs, system %.2fs (%.0f %% kernel); %.0f µs user + %.0f µs system per admitted pay\n",
			u / t, s / t, 100 * s / (u + s), 1e6 * u / t / n, 1e6 * s / t / n }'
fi
echo "== CPU profile (top 25, cumulative order is in $OUT/cpu.pprof)"
PROFBIN=$BIN/paycode
[ -z "$FLOORRUN" ] || PROFBIN=$BIN/floorserver
go tool pprof -top -nodecount 25 "$PROFBIN" "$OUT/cpu.pprof" 2>/dev/null | sed -n '1,32p'
for p in sched syscall sync net; do
	go tool trace -pprof="$p" "$OUT/trace.out" >"$OUT/$p.pprof" 2>/dev/null || continue
	echo "== trace: $p (top 12)"
	go tool pprof -top -nodecount 12 "$OUT/$p.pprof" 2>/dev/null | sed -n '1,18p'
done
echo "== GC (whole run: pause quantiles in seconds, heap, goroutines)"
cat "$OUT/gc.txt"
echo "load average after: $(loadavg)"
