#!/usr/bin/env bash
# Memory of concurrent on-demand renders (issue 12): N different files, each
# a large JPEG (24 megapixels of noise, about 19 MB), all requested at once as
# a 256 px WebP thumbnail from a server that has never rendered them. Prints,
# for each server, its resident memory at rest and its peak during the
# renders (VmHWM, reset just before), the answers (200, or 503 for requests
# beyond the render queue) and the wall time.
#
#   bench/render-memory.sh                       this tree, 40 files
#   BENCH_BASE=471442e bench/render-memory.sh    also that revision (built in a
#                                                git worktree under bench/out),
#                                                side by side, in the same run
#   BENCH_FILES=80 bench/render-memory.sh        more files at once
#
# Needs vips (Debian: libvips-tools) to make the JPEG, curl and jq. Nothing
# here fails on a figure.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
N=${BENCH_FILES:-40}
mkdir -p "$OUT/bin"

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for c in vips curl jq; do
	command -v $c >/dev/null || {
		log "$c is not installed (Debian: libvips-tools, curl, jq)"
		exit 1
	}
done

PHOTO=$OUT/noise-24mp.jpg
if [[ ! -s $PHOTO ]]; then
	log "making a 24-megapixel JPEG of noise ($PHOTO)"
	vips gaussnoise "$OUT/noise.v" 6000 4000 --mean 128 --sigma 64
	vips bandjoin "$OUT/noise.v $OUT/noise.v $OUT/noise.v" "$OUT/noise3.v"
	vips cast "$OUT/noise3.v" "$OUT/noise8.v" uchar
	vips jpegsave "$OUT/noise8.v" "$PHOTO" --Q 95
	rm -f "$OUT"/noise*.v
fi
log "source: $(du -h "$PHOTO" | cut -f1) JPEG, 6000x4000"

log "building satchel ($(git rev-parse --short HEAD))"
go build -o "$OUT/bin/satchel-render" .
SERVERS=("this tree ($(git rev-parse --short HEAD))=$OUT/bin/satchel-render")
if [[ -n ${BENCH_BASE:-} ]]; then
	base=$(git rev-parse --short "$BENCH_BASE")
	log "building satchel $base in a worktree"
	rm -rf "$OUT/base-src"
	git worktree prune
	git worktree add -q --detach "$OUT/base-src" "$base"
	(cd "$OUT/base-src" && go build -o "$OUT/bin/satchel-render-base" .)
	git worktree remove --force "$OUT/base-src"
	SERVERS=("$base=$OUT/bin/satchel-render-base" "${SERVERS[@]}")
fi

kb() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$2/status"; }

run() {
	local label=$1 bin=$2 port data pid base sk ids=() t0 t1 codes
	port=$(free_port 18700)
	data=$(mktemp -d "$OUT/render-data.XXXXXX")
	base=http://127.0.0.1:$port
	SATCHEL_ADDR=127.0.0.1:$port SATCHEL_DATA_DIR=$data SATCHEL_LOG_LEVEL=error "$bin" >"$data/out.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
	sk=$(jq -r .secretKey "$data/bootstrap-keys.json")
	for i in $(seq "$N"); do
		ids+=("$(curl -fs -X POST "$base/files/basic" -H "Authorization: Bearer $sk" -H 'Content-Type: image/jpeg' \
			-H "X-Upload-File-Name: noise-$i.jpg" --data-binary @"$PHOTO" | jq -r .fileId)")
	done
	# The preset after the uploads: nothing is rendered ahead of the requests.
	curl -fs "$base/graphql" -H "Authorization: Bearer $sk" -H 'Content-Type: application/json' \
		-d '{"query":"mutation { createTransformation(input: {name: \"thumb\", width: 256, height: 256, fit: INSIDE, format: WEBP}) { name } }"}' >/dev/null
	sleep 1
	local rest peak
	rest=$(kb VmRSS $pid)
	echo 5 >"/proc/$pid/clear_refs" # the peak starts again from here
	t0=$(date +%s.%N)
	codes=$(printf '%s\n' "${ids[@]}" | xargs -P "$N" -I{} curl -s -o /dev/null -w '%{http_code}\n' "$base/files/{}/thumb" | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
	t1=$(date +%s.%N)
	peak=$(kb VmHWM $pid)
	kill $pid
	wait $pid 2>/dev/null || true
	rm -rf "$data"
	printf '| %s | %d MiB | %d MiB | +%d MiB | %s| %.1f s |\n' "$label" $((rest / 1024)) $((peak / 1024)) $(((peak - rest) / 1024)) "$codes" "$(echo "$t1 - $t0" | bc)"
}

echo
echo "$N concurrent first renders of different 24-megapixel JPEGs ($(du -h "$PHOTO" | cut -f1)) to a 256 px WebP, $(nproc) cores:"
echo
echo "| server | RSS at rest | peak RSS | peak over rest | answers | wall time |"
echo "|---|---|---|---|---|---|"
for s in "${SERVERS[@]}"; do
	run "${s%%=*}" "${s#*=}"
done
