#!/usr/bin/env bash
# bench/loadgen.sh: the load generator's and the simulated wallets' own
# CPU per request, as ratios measured in one sitting (issue 16 items 3, 4).
#
#   bench/loadgen.sh [-rate 3000] [-duration 10s] [-runs 3] [-bin DIR] [-ab | -alt FLAGS | -floor] [-godebug V]
#
# Each run, alternating:
#   A. `paycode load` (capacity scenario) against bench/cmd/bareserver:
#      the generator's CPU per request (getrusage) and the bare server's
#      (/proc/PID/stat), and their ratio (goal: ≤ 1);
#   B. `paycode load` → `paycode serve -memory` → `paycode sim -latency
#      zero`: the simulated wallets' CPU per pay (/proc/PID/stat; goal:
#      ≤ 30 µs), the generator's per request again.
# Prints each run and the medians. Everything listens on 127.0.0.1; every
# process is bounded in time and stopped by its pid. -bin DIR uses the
# paycode and bareserver binaries in DIR (to compare builds A/B); -ab adds,
# before each step A, the same step with `paycode load -vegeta` (vegeta's
# own Attacker over fasthttp instead of the paced sender), interleaved;
# -alt FLAGS does the same with other load flags (e.g. '-procs 0' or
# '-nethttp'). -floor is -alt -discard (the paced sender recording
# nothing: the generator's floor) and adds the kernel's part of each
# process's CPU per request (system time) and, where perf may read the
# syscall tracepoints (root, or perf_event_paranoid <= -1), its system
# calls and context switches per request, counted over the steady part
# of the step (from 3 s for 4 s; needs -duration 9s or more).
# -godebug V runs the generator and the simulated wallets (not the bare
# server, not serve) with GODEBUG=V: -godebug schedtrace=2147483647 keeps
# Go's sysmon thread out of its deep sleep, from which the first system
# call after every idle spell wakes it to 20 µs naps (docs/load-testing.md,
# "sysmon").
set -euo pipefail
cd "$(dirname "$0")/.."
rate=3000 duration=10s runs=3 bin="" ab="" floor="" godebug=""
while [ $# -gt 0 ]; do
	case "$1" in
	-rate) rate=$2; shift 2 ;;
	-duration) duration=$2; shift 2 ;;
	-runs) runs=$2; shift 2 ;;
	-bin) bin=$2; shift 2 ;;
	-ab) ab=-vegeta; shift ;;
	-alt) ab=$2; shift 2 ;;
	-floor) ab=-discard floor=1; shift ;;
	-godebug) godebug=$2; shift 2 ;;
	*) echo "usage: $0 [-rate N] [-duration D] [-runs N] [-bin DIR] [-ab | -alt FLAGS | -floor] [-godebug V]" >&2; exit 2 ;;
	esac
done
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
if [ -z "$bin" ]; then
	bin=$work/bin
	go build -o "$bin/paycode" ./cmd/paycode
	go build -o "$bin/bareserver" ./bench/cmd/bareserver
fi
pc=$bin/paycode
# gd: the GODEBUG of the generator and the simulated wallets (-godebug,
# else the environment's).
gd=${godebug:-${GODEBUG:-}}

cpu_ticks() { # utime+stime of a pid, in clock ticks
	awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$1/stat"
}
sys_ticks() { # stime of a pid, in clock ticks
	awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[13] }' "/proc/$1/stat"
}
perf_ok=""
if [ -n "$floor" ] && perf stat -e raw_syscalls:sys_enter true > /dev/null 2>&1; then perf_ok=1; fi
# count PID OUT: (in the background) the system calls and context
# switches of PID from 3 s into the step for 4 s, to OUT.
count() {
	[ -n "$perf_ok" ] || return 0
	(sleep 3; perf stat -x, -o "$2" -e raw_syscalls:sys_enter,context-switches -p "$1" -- sleep 4 > /dev/null 2>&1 || true) &
	cpids+=("$!")
}
cpids=()
# counted: wait for the counters.
counted() {
	[ "${#cpids[@]}" -eq 0 ] || wait "${cpids[@]}" 2>/dev/null || true
	cpids=()
}
# per_req FILE EVENT: EVENT's count in FILE per request of the 4 s window.
per_req() {
	[ -n "$perf_ok" ] && [ -s "$1" ] || { echo -; return; }
	awk -F, -v ev="$2" -v n="$((rate * 4))" '$3 == ev { printf "%.2f", $1 / n }' "$1"
}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }
# wait_for PID SECS: wait for PID, killing it after SECS.
wait_for() {
	local t=0
	while kill -0 "$1" 2>/dev/null && [ "$t" -lt "$(($2 * 10))" ]; do sleep 0.1; t=$((t + 1)); done
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

echo "# $(date -u +%FT%TZ) rate ${rate}/s duration $duration runs $runs${godebug:+; generator and wallets with GODEBUG=$godebug}; load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
if [ -n "$floor" ]; then
	echo "# per request: CPU (µs), its system part (µs), system calls and context switches (perf: ${perf_ok:-not permitted}) of the generator and the other process"
	printf '%-4s %-28s %10s %10s %8s %8s %8s %8s %8s %8s %8s\n' run what gen_us/req other_us/req ratio gen_sys other_sys gen_sc other_sc gen_cs other_cs
else
	printf '%-4s %-28s %10s %10s %8s\n' run what gen_us/req other_us/req ratio
fi
gens=() bares=() ratios=() sims=() gens2=() ngens=() nratios=()
gsys=() bsys=() ssys=() ngsys=()
# row RUN WHAT GEN OTHER RATIO GEN_SYS OTHER_SYS GEN_PERF OTHER_PERF
row() {
	if [ -n "$floor" ]; then
		printf '%-4s %-28s %10.1f %10.1f %8s %8.1f %8.1f %8s %8s %8s %8s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" \
			"$(per_req "$8" raw_syscalls:sys_enter)" "$(per_req "$9" raw_syscalls:sys_enter)" \
			"$(per_req "$8" context-switches)" "$(per_req "$9" context-switches)"
	else
		printf '%-4s %-28s %10.1f %10.1f %8s\n' "$1" "$2" "$3" "$4" "$5"
	fi
}
# bare RUN NAME [FLAGS]: the generator against the bare server.
bare() {
	local i=$1 name=$2; shift 2
	bp=$(port)
	"$bin/bareserver" -listen "127.0.0.1:$bp" > /dev/null & bpid=$!; pids+=("$bpid")
	sleep 0.3
	GODEBUG="$gd" "$pc" load -scenario testdata/scenarios/capacity.yaml -rate "$rate" -duration "$duration" \
		-target "http://127.0.0.1:$bp" -target-pid "$bpid" -no-check -quiet -out "$work/$name$i" "$@" > /dev/null 2>&1 &
	lpid=$!; pids+=("$lpid")
	count "$lpid" "$work/$name$i.gen.perf"
	count "$bpid" "$work/$name$i.other.perf"
	wait_for "$lpid" 120
	kill "$bpid"; wait "$bpid" 2>/dev/null || true
	counted
	g=$(json "$work/$name$i/summary.json" "d['cpu']['per_request_us']")
	b=$(json "$work/$name$i/summary.json" "d['cpu']['target_per_request_us']")
	gs=$(json "$work/$name$i/summary.json" "d['cpu'].get('system_per_request_us', 0)")
	bs=$(json "$work/$name$i/summary.json" "d['cpu'].get('target_system_per_request_us', 0)")
	r=$(python3 -c "print(round($g/$b, 2))")
}
for i in $(seq "$runs"); do
	if [ -n "$ab" ]; then
		# shellcheck disable=SC2086 # FLAGS are words
		bare "$i" n $ab
		ngens+=("$g") nratios+=("$r") ngsys+=("$gs")
		row "$i" "generator $ab / bare" "$g" "$b" "$r" "$gs" "$bs" "$work/n$i.gen.perf" "$work/n$i.other.perf"
	fi
	bare "$i" a
	gens+=("$g") bares+=("$b") ratios+=("$r") gsys+=("$gs") bsys+=("$bs")
	row "$i" "generator / bare server" "$g" "$b" "$r" "$gs" "$bs" "$work/a$i.gen.perf" "$work/a$i.other.perf"

	# B: the simulated wallets behind paycode serve -memory.
	GODEBUG="$gd" "$pc" sim -port 0 -ident-port -1 -latency zero > "$work/sim.yaml" 2> /dev/null & spid=$!; pids+=("$spid")
	for _ in $(seq 50); do grep -q 'mpp-281011' "$work/sim.yaml" && break; sleep 0.1; done
	lp=$(port) ap=$(port)
	{ echo "listen: 127.0.0.1:$lp"; echo "admin: 127.0.0.1:$ap"; grep -v '^#' "$work/sim.yaml"; } > "$work/serve.yaml"
	"$pc" serve -config "$work/serve.yaml" -memory -log.level error > /dev/null 2>&1 & ppid=$!; pids+=("$ppid")
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$ap/readyz" > /dev/null 2>&1 && break; sleep 0.1; done
	s0=$(cpu_ticks "$spid") ss0=$(sys_ticks "$spid")
	GODEBUG="$gd" "$pc" load -scenario testdata/scenarios/capacity.yaml -rate "$rate" -duration "$duration" \
		-target "http://127.0.0.1:$lp" -target-pid "$ppid" -no-check -quiet -out "$work/b$i" > /dev/null 2>&1 &
	lpid=$!; pids+=("$lpid")
	count "$lpid" "$work/b$i.gen.perf"
	count "$spid" "$work/b$i.other.perf"
	wait_for "$lpid" 120
	counted
	s1=$(cpu_ticks "$spid") ss1=$(sys_ticks "$spid")
	kill "$ppid" "$spid"; wait "$ppid" "$spid" 2>/dev/null || true
	n=$(json "$work/b$i/summary.json" "d['achieved']['requests']")
	g2=$(json "$work/b$i/summary.json" "d['cpu']['per_request_us']")
	p=$(json "$work/b$i/summary.json" "d['cpu']['target_per_request_us']")
	s=$(python3 -c "print(round(($s1-$s0)*1e6/100/$n, 1))")
	ss=$(python3 -c "print(round(($ss1-$ss0)*1e6/100/$n, 1))")
	g2s=$(json "$work/b$i/summary.json" "d['cpu'].get('system_per_request_us', 0)")
	sims+=("$s") gens2+=("$g2") ssys+=("$ss")
	row "$i" "sim per pay (serve $(printf %.0f "$p"))" "$g2" "$s" "-" "$g2s" "$ss" "$work/b$i.gen.perf" "$work/b$i.other.perf"
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {m = a[int((NR+1)/2)]; if (m ~ /^-?[0-9.]+$/) printf "%.4g\n", m; else print m}'; }
if [ -n "$ab" ]; then
	echo "median $ab: generator $(med "${ngens[@]}") µs/req, ratio to the bare server $(med "${nratios[@]}")"
fi
if [ -n "$floor" ]; then
	echo "median system part: generator $(med "${gsys[@]}") µs/req (-discard $(med "${ngsys[@]}")), bare server $(med "${bsys[@]}"), simulated wallets $(med "${ssys[@]}") µs/pay"
fi
echo "median: generator $(med "${gens[@]}") µs/req, bare server $(med "${bares[@]}") µs/req, ratio $(med "${ratios[@]}");" \
	"simulated wallets $(med "${sims[@]}") µs/pay = $(python3 -c "print(round($(med "${sims[@]}")/$(med "${bares[@]}"), 2))")× the bare server (generator $(med "${gens2[@]}") µs/req); load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
