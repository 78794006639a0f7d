# bench/procs.sh: sourced by bench/ratio.sh and bench/overload.sh. Builds
# the binaries and starts and stops the processes of a whole-process run,
# all on loopback, each bounded in time.

BIN=$OUT/bin
SIM_PORT=${SIM_PORT:-7301}
LANE=127.0.0.1:${LANE_PORT:-8380}
ADMIN=127.0.0.1:${ADMIN_PORT:-9380}
BARE=127.0.0.1:${BARE_PORT:-8480}
FLOOR=127.0.0.1:${FLOOR_PORT:-8580}
LEDGERS=http://127.0.0.1:$SIM_PORT,http://127.0.0.1:$((SIM_PORT + 1)),http://127.0.0.1:$((SIM_PORT + 2)),http://127.0.0.1:$((SIM_PORT + 3))
PIDS=()

# ports_free: refuse to start when another run (another worktree's, say)
# holds the ports: its processes would answer this run's requests.
ports_free() {
	local p
	for p in "$SIM_PORT" "${LANE##*:}" "${ADMIN##*:}" "${BARE##*:}" "${FLOOR##*:}"; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "port $p is in use (another run?): set SIM_PORT, LANE_PORT, ADMIN_PORT, BARE_PORT and FLOOR_PORT to free ones" >&2
			exit 1
		fi
	done
}

build() {
	mkdir -p "$BIN"
	go build -o "$BIN/paycode" ./cmd/paycode
	go build -o "$BIN/bareserver" ./bench/cmd/bareserver
	go build -o "$BIN/floorserver" ./bench/cmd/floorserver
	go build -o "$BIN/loadcompare" ./bench/cmd/loadcompare
	go build -o "$BIN/fsyncprobe" ./bench/cmd/fsyncprobe
}

# fsync_probe DIR: the disk's fdatasync quantiles under DIR, in this
# sitting (a synced pay waits for at least one); skipped when BIN has no
# fsyncprobe (a -bin directory built before it existed).
fsync_probe() {
	if [ -x "$BIN/fsyncprobe" ]; then
		"$BIN/fsyncprobe" -dir "$1" -n 500
	fi
}

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

wait_http() { # URL: poll until it answers (10 s)
	for _ in $(seq 100); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "$1 did not answer" >&2
	return 1
}

# start_sim: the simulated wallets answering at once, and serve.yaml
# pointing paycode at them.
start_sim() {
	"$BIN/paycode" sim -host 127.0.0.1 -port "$SIM_PORT" -ident-port -1 -latency zero >"$OUT/sim.yaml" 2>"$OUT/sim.log" &
	PIDS+=($!)
	wait_http "http://127.0.0.1:$SIM_PORT/sim/ledger" || wait_http "http://127.0.0.1:$SIM_PORT/"
	{ echo "listen: $LANE"; echo "admin: $ADMIN"; grep -v '^#' "$OUT/sim.yaml"; } >"$OUT/serve.yaml"
}

# start_serve DATA_DIR [flags]: paycode serve (Pebble journal in DATA_DIR,
# serve's defaults), with $SERVE_ENV (e.g. GOGC=400) in its
# environment only; sets SERVE_PID.
start_serve() {
	local data=$1
	shift
	env ${SERVE_ENV:-} "$BIN/paycode" serve -config "$OUT/serve.yaml" -data "$data" "$@" >>"$OUT/serve.log" 2>&1 &
	SERVE_PID=$!
	PIDS+=($SERVE_PID)
	wait_http "http://$ADMIN/readyz"
}

stop() { # PID
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

start_bare() { # sets BARE_PID
	env ${BARE_ENV:-} "$BIN/bareserver" -listen "$BARE" >>"$OUT/bare.log" 2>&1 &
	BARE_PID=$!
	PIDS+=($BARE_PID)
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://$BARE/" && return 0
		sleep 0.1
	done
}

# start_floor DATA_DIR [flags]: bench/cmd/floorserver (a pay's I/O, none of
# paycode's logic) on a fresh store in DATA_DIR, its wallets the
# simulator's (from sim.yaml); sets FLOOR_PID.
start_floor() {
	local wallets data=$1
	shift
	wallets=$(sed -n 's/.*name: mpp-\([0-9]\{6\}\), url: "\([^"]*\)".*/\1=\2/p' "$OUT/sim.yaml" | paste -sd, -)
	env ${BARE_ENV:-} "$BIN/floorserver" -listen "$FLOOR" -data "$data" -wallets "$wallets" "$@" >>"$OUT/floor.log" 2>&1 &
	FLOOR_PID=$!
	PIDS+=($FLOOR_PID)
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://$FLOOR/" && return 0
		sleep 0.1
	done
}

# load NAME TARGET PID SCENARIO RATE SEED [flags]: one bounded load run,
# its report in $OUT/NAME/ and its text on $OUT/NAME.txt.
load() {
	local name=$1 target=$2 pid=$3 scenario=$4 rate=$5 seed=$6
	shift 6
	local window=()
	# The target's user and system CPU, and its system calls when
	# counted, over the load's sending window (DURATION): not its drain
	# or its correctness check, which queries paycode.
	(
		t0=$(cpu_ticks "$pid")
		sleep "${DURATION%s}"
		echo "$t0 $(cpu_ticks "$pid")" >"$OUT/$name.ticks"
	) &
	window+=($!)
	if [ -n "${SYSCALL_EVENTS:-}" ]; then
		perf stat -x, -o "$OUT/$name.syscalls" -p "$pid" -e "$SYSCALL_EVENTS" -- sleep "${DURATION%s}" 2>/dev/null &
		window+=($!)
	fi
	timeout 600 "$BIN/paycode" load -scenario "$scenario" -rate "$rate" -duration "$DURATION" -seed "$seed" -quiet \
		-target "$target" -target-pid "$pid" -out "$OUT/$name" "$@" >"$OUT/$name.txt" 2>&1 || true
	wait "${window[@]}" 2>/dev/null || true
}

# cpu_split NAME...: each run's user and system CPU per request sent in its
# load's sending window (/proc/PID/stat), and, when counted
# (SYSCALL_EVENTS), its system calls per request.
cpu_split() {
	local name n tick
	tick=$(getconf CLK_TCK)
	for name in "$@"; do
		[ -s "$OUT/$name.ticks" ] || continue
		n=$(sed -n 's/^requested.*achieved \([0-9]*\) req.*/\1/p' "$OUT/$name.txt")
		[ -n "$n" ] && [ "$n" -gt 0 ] || continue
		awk -v n="$n" -v t="$tick" -v name="$name" '{ u = $3 - $1; s = $4 - $2
			printf "  %-12s %7d req  user %6.1f µs + system %6.1f µs per request (%2.0f %% kernel)", name, n, 1e6 * u / t / n, 1e6 * s / t / n, 100 * s / (u + s) }' "$OUT/$name.ticks"
		if [ -s "$OUT/$name.syscalls" ]; then
			awk -F, -v n="$n" '$3 ~ /sys_enter_/ { sub(/.*sys_enter_/, "", $3); printf "  %s %.2f", $3, $1 / n }' "$OUT/$name.syscalls"
			printf ' per request'
		fi
		echo
	done
}

# pays_answered: "ADMITTED ALL": the pays serve has answered so far, shed
# ones aside and all (paycode_lane_requests_total, endpoint pay).
pays_answered() {
	curl -s "http://$ADMIN/metrics" | awk '/^paycode_lane_requests_total/ && /endpoint="pay"/ { all += $NF; if (!/REQUEST_TRAFFIC_EXCEED_LIMIT/) n += $NF } END { printf "%d %d\n", n, all }'
}

# cpu_ticks PID: "USER SYSTEM" CPU of PID so far, in clock ticks.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f12,13; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
