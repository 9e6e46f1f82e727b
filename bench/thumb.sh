#!/usr/bin/env bash
# Thumbnail benchmark: Satchel's on-demand render of a 12-megapixel JPEG to a
# 256x256 (inside) WebP thumbnail, against `vipsthumbnail` (same libvips) and
# a pure-Go resize (github.com/disintegration/imaging), in one run. It builds
# Satchel and the driver (bench/thumbbench), starts Satchel on 127.0.0.1 with
# a fresh data dir, and the driver prints a table of medians, p90s, ratios
# and the goals (first render within 1.3x of vipsthumbnail; cached hit under
# 2 ms). Nothing here fails on a figure.
#
#   bench/thumb.sh                  full run: 15 samples, 200 cached hits (~1 min)
#   BENCH_QUICK=1 bench/thumb.sh    smoke run: 5 samples, 50 cached hits
#   bench/thumb.sh -n 31            extra arguments go to the driver
#                                   (bench/out/bin/thumbbench -h lists them)
#
# The photo is generated once and cached as bench/out/photo-12mp.jpg.
# Needs vipsthumbnail (Debian: libvips-tools). BENCH_PERF=1 records a CPU
# profile of the server with `perf` for the whole run (bench/out/thumb-satchel.perf.data).
#
# Output: the table on stdout, bench/out/thumb-results.md, and in full mode
# without driver arguments a copy in bench/RESULTS-thumb.md (tracked).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
BIN=$OUT/bin
START=$SECONDS

if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
	MODE=quick ARGS=(-n 5 -hits 50 -batch-runs 2)
else
	MODE=full ARGS=()
fi

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v vipsthumbnail >/dev/null || {
	log "vipsthumbnail is not installed (Debian: apt-get install libvips-tools)"
	exit 1
}

export GOTOOLCHAIN=local GOWORK=off
mkdir -p "$BIN"
log "building satchel"
go build -buildvcs=false -o "$BIN/satchel" .
log "building the driver"
go build -buildvcs=false -o "$BIN/thumbbench" ./bench/thumbbench

SPID= PERFPID= DATA=$OUT/thumb-data
cleanup() {
	local pid
	for pid in $PERFPID $SPID; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $PERFPID $SPID; do
		wait "$pid" 2>/dev/null || true
	done
	[[ "${BENCH_KEEP_DATA:-0}" == 1 ]] || rm -rf "$DATA"
}
trap cleanup EXIT


rm -rf "$DATA"
mkdir -p "$DATA"
PORT=$(free_port 18580)
log "starting satchel on 127.0.0.1:$PORT (data: ${DATA#"$ROOT"/})"
env -u DATABASE_URL -u SATCHEL_STORAGE \
	SATCHEL_DATA_DIR="$DATA" SATCHEL_ADDR="127.0.0.1:$PORT" \
	SATCHEL_PUBLIC_URL="http://127.0.0.1:$PORT" SATCHEL_LOG_LEVEL=warn \
	"$BIN/satchel" serve >"$OUT/thumb-satchel.log" 2>&1 &
SPID=$!
for ((i = 0; ; i++)); do
	if ! kill -0 "$SPID" 2>/dev/null; then
		log "satchel exited at start-up:"
		tail -n 20 "$OUT/thumb-satchel.log" >&2
		exit 1
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	((i < 300)) || {
		log "satchel did not listen on 127.0.0.1:$PORT within 30 s"
		exit 1
	}
	sleep 0.1
done
[[ -s "$DATA/bootstrap-keys.json" ]] || {
	log "satchel wrote no $DATA/bootstrap-keys.json"
	exit 1
}

if [[ "${BENCH_PERF:-0}" == 1 ]]; then
	log "recording a CPU profile of satchel (pid $SPID) with perf"
	perf record -F 999 -g -p "$SPID" -o "$OUT/thumb-satchel.perf.data" >"$OUT/thumb-satchel.perf.log" 2>&1 &
	PERFPID=$!
fi

REV=$(git describe --always --dirty 2>/dev/null || echo unknown)
log "running the driver ($MODE; satchel pid $SPID)"
"$BIN/thumbbench" -url "http://127.0.0.1:$PORT" -data "$DATA" -pid "$SPID" \
	-image "$OUT/photo-12mp.jpg" -work "$OUT/thumb-work" -md "$OUT/thumb-results.md" \
	-mode "$MODE" -nproc "$(nproc)" -satchel-rev "$REV" "${ARGS[@]}" "$@"

if [[ -n "$PERFPID" ]]; then
	kill -INT "$PERFPID" 2>/dev/null || true
	wait "$PERFPID" 2>/dev/null || true
	PERFPID=
	log "profile: perf report --no-children -i ${OUT#"$ROOT"/}/thumb-satchel.perf.data"
fi

kill -0 "$SPID" 2>/dev/null || log "warning: satchel (pid $SPID) is no longer running"
lines=$(grep -ciE 'warn|error' "$OUT/thumb-satchel.log" || true)
((lines == 0)) || log "note: satchel logged $lines warnings/errors, see ${OUT#"$ROOT"/}/thumb-satchel.log"

if [[ $MODE == full && $# == 0 ]]; then
	cp "$OUT/thumb-results.md" "$ROOT/bench/RESULTS-thumb.md"
	log "wrote bench/RESULTS-thumb.md"
else
	log "quick mode or driver arguments: bench/RESULTS-thumb.md left as it was"
fi
log "done in $((SECONDS - START)) s"
