#!/usr/bin/env bash
# Compare paycode's decoder with zbarimg (Debian zbar-tools) and ZXingReader
# (Debian zxing-cpp-tools) on generated lane-like images, per distortion
# class: decode rate, wrong texts, and whole-process time per image as
# ratios. Installs nothing; a missing tool is skipped. Not run in CI.
#
#   decode/compare/run.sh            # 20 images per class, seed 1, 3 timing runs
#   N=50 SEED=7 REPS=5 decode/compare/run.sh
#   KEEP=1 decode/compare/run.sh     # keep the images and outputs (path printed)
#   BASE=a345122 decode/compare/run.sh   # also paycode built at a commit, timed in the same loop
#
# Each decoder runs once per class over all of that class's files (one
# process, many images), REPS times; the median run counts. Symbologies are
# restricted to QR and Code 128 for all three, as paycode's default.
set -euo pipefail

N=${N:-20}
SEED=${SEED:-1}
REPS=${REPS:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/decodecmp.XXXXXX")
if [[ -z "${KEEP:-}" ]]; then
	trap 'rm -rf "$work"' EXIT
fi

decoders=(paycode)
if command -v zbarimg >/dev/null; then
	decoders+=(zbarimg)
else
	echo "zbarimg not found (apt-get install zbar-tools): skipped" >&2
fi
if command -v ZXingReader >/dev/null; then
	decoders+=(zxing)
else
	echo "ZXingReader not found (apt-get install zxing-cpp-tools): skipped" >&2
fi

cd "$root"
mkdir -p "$work/bin" "$work/out"
go build -o "$work/bin/paycode" ./cmd/paycode
# BASE=REV: paycode as built at REV runs beside this checkout's, class by
# class in the same loop, so the two are timed under the same load; its
# answers are compared with this checkout's at the end.
if [[ -n "${BASE:-}" ]]; then
	git worktree add --detach --quiet "$work/base-src" "$BASE"
	(cd "$work/base-src" && go build -o "$work/bin/paycode-base" ./cmd/paycode)
	git worktree remove --force "$work/base-src"
	decoders+=(base)
fi
go build -o "$work/bin/compare" ./decode/compare
"$work/bin/compare" gen -dir "$work/img" -n "$N" -seed "$SEED"

# run DECODER FILES... writes the decoder's output to stdout and its wall
# time in ns to $work/ns. ZXingReader 1.4.0 as Debian builds it keeps its
# assertions and aborts on some frames in its downscale pass; when it does,
# the class is run again with -noscale (which does not abort), and that run
# is the one counted and timed; report lists such classes.
run() {
	local d=$1 t0 t1
	shift
	t0=$(date +%s%N)
	case $d in
	paycode) "$work/bin/paycode" decode -reveal "$@" 2>/dev/null || true ;;
	base) "$work/bin/paycode-base" decode -reveal "$@" 2>/dev/null || true ;;
	zbarimg) zbarimg --xml -q -Sdisable -Sqrcode.enable -Scode128.enable "$@" 2>/dev/null || true ;;
	zxing)
		# (The braces also silence bash's "Aborted" job message.)
		if ! { ZXingReader -1 -format QRCode,Code128 "$@" >"$work/zx.tmp"; } 2>/dev/null; then
			echo "$class" >>"$work/out/zxing/noscale"
			t0=$(date +%s%N)
			{ ZXingReader -1 -noscale -format QRCode,Code128 "$@"; } 2>/dev/null || true
		else
			cat "$work/zx.tmp"
		fi
		;;
	esac
	t1=$(date +%s%N)
	echo $((t1 - t0)) >"$work/ns"
}

cd "$work/img"
: >"$work/out/times.tsv"
for d in "${decoders[@]}"; do mkdir -p "$work/out/$d"; done
for rep in $(seq "$REPS"); do
	for class in $("$work/bin/compare" classes); do
		files=("$class"/*)
		for d in "${decoders[@]}"; do
			run "$d" "${files[@]}" >"$work/out/$d/$class.out"
			echo "$d $class ${#files[@]} $(cat "$work/ns")" >>"$work/out/times.tsv"
		done
	done
done

echo "$N images per class, seed $SEED, median of $REPS timing runs; $(nproc) cores; $(date -u +%FT%TZ)"
"$work/bin/compare" report -dir "$work/img" -out "$work/out"
if [[ -n "${BASE:-}" ]]; then
	# Whole-set ms per image (median run per class), as the table's "all"
	# row, and every file whose answer differs (the ms column aside).
	awk -v base="$BASE" '
	{ k = $1 SUBSEP $2; t[k] = t[k] " " $4 / $3 / 1e6; n[$2] = $3 }
	function med(s,   v, c, i, j, x) {
		c = split(s, v, " ")
		for (i = 2; i <= c; i++) { x = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > x; j--) v[j+1] = v[j]; v[j+1] = x }
		return v[int((c + 1) / 2)]
	}
	END {
		for (c in n) { a += med(t["base" SUBSEP c]) * n[c]; b += med(t["paycode" SUBSEP c]) * n[c]; m += n[c] }
		printf "paycode at %s: %.1f ms/img; this checkout: %.1f ms/img (%.2fx)\n", base, a / m, b / m, b / a
	}' "$work/out/times.tsv"
	changed=0
	for f in "$work/out/paycode"/*.out; do
		c=$(basename "$f")
		changed=$((changed + $(diff <(cut -f1-3 "$work/out/base/$c") <(cut -f1-3 "$f") | grep -c '^>' || true)))
	done
	echo "files whose answer differs from paycode at $BASE: $changed"
fi
if [[ -n "${KEEP:-}" ]]; then
	echo "images and outputs kept in $work" >&2
fi
