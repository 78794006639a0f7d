#!/usr/bin/env bash
# Compare paycode's decoder with zbarimg (Debian zbar-tools) and ZXingReader
# (Debian zxing-cpp-tools) on generated lane-like images, per distortion
# class: decode rate, wrong texts, and whole-process time per image as
# ratios. Installs nothing; a missing tool is skipped. Not run in CI.
#
#   decode/compare/run.sh            # 20 images per class, seed 1, 3 timing runs
#   N=50 SEED=7 REPS=5 decode/compare/run.sh
#   KEEP=1 decode/compare/run.sh     # keep the images and outputs (path printed)
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
if [[ -n "${KEEP:-}" ]]; then
	echo "images and outputs kept in $work" >&2
fi
