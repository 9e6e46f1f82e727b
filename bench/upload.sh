#!/usr/bin/env bash
# Upload benchmark: Satchel against the standalone tusd binary (v2.10.0), both
# on this machine, in one run. It builds both servers and the driver
# (bench/uploadbench), starts each server on 127.0.0.1 with a fresh data dir,
# runs the driver against both (it alternates them) and prints a table of
# figures and Satchel/tusd ratios. Nothing here fails on a figure: the goals
# are printed next to them.
#
#   bench/upload.sh                 full run: 1 GiB upload, 1000 uploads (~2 min,
#                                   plus ~2 min for the first build of tusd)
#   BENCH_QUICK=1 bench/upload.sh   smoke run: 256 MiB, 200 uploads
#   bench/upload.sh -phases 2       extra arguments go to the driver
#                                   (bench/out/bin/uploadbench -h lists them)
#   BENCH_PHASES=5 bench/upload.sh  multipart (make bench-multipart): the 1 GiB file
#                                   as 5 MiB parts, 4 in flight, against one tus
#                                   PATCH, Satchel only (~2 min; quick: 256 MiB)
#   BENCH_DB=postgres bench/upload.sh
#                                   the same with Satchel on PostgreSQL instead of
#                                   its embedded SQLite (make bench-postgres)
#   BENCH_STORE=s3 bench/upload.sh  both servers on S3 (make bench-s3): one
#                                   versitygw, a bucket each; measures 1, 2, 3
#                                   and 5 by default (~10 min)
#
# Environment: BENCH_QUICK=1 (see above); BENCH_SIZE=4GiB the large upload's
# size (default 1GiB, quick 256MiB); BENCH_PHASES=... the measures to run
# (default 123, 1235 with BENCH_STORE=s3; 5 is multipart, Satchel only: tusd
# is neither built nor started unless 1, 2 or 3 is named); BENCH_RUNS=N runs
# phases (1), (2) and (5) N times per server instead of 3; BENCH_DATA_DIR=DIR
# puts the servers' data dirs in DIR/satchel-upload-bench instead of
# bench/out/data (both with the suffix below; e.g. /dev/shm to take the
# disk's file system out of the picture); BENCH_KEEP_DATA=1 keeps them after
# the run; BENCH_PERF=1 records CPU profiles of both server processes (and of
# the S3 gateway) with `perf` for the whole driver run
# (bench/out/{satchel,tusd,versitygw}.perf.data, with the suffix below).
# BENCH_S3_PART_SIZE and BENCH_S3_ACCESS_LOG=1 (versitygw's log of every S3
# request, bench/out/versitygw-access-s3.log: to count requests, not for
# figures) are for BENCH_STORE=s3, below.
#
# BENCH_DB=sqlite (the default) runs Satchel on its embedded SQLite, in its
# data dir. BENCH_DB=postgres gives it DATABASE_URL instead: a fresh database
# satchel_bench_<random> on the PostgreSQL server BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable, any database of
# the server to connect to; trust auth or a password in the URL), created with
# psql before Satchel starts and dropped at exit (kept with BENCH_KEEP_DATA=1).
# When that default local server is down and pg_ctlcluster exists, the script
# starts it (scripts/ensure-postgres.sh). tusd has no database: its side of the
# run is the same in both modes.
#
# BENCH_STORE=file (the default) runs both servers on their filestore, in
# their data dirs. BENCH_STORE=s3 runs both on S3, on one versitygw (Versity's
# S3 gateway, $SATCHEL_VERSITYGW or tools/bin/versitygw as installed by
# scripts/versitygw.sh, or on PATH) started on 127.0.0.1 with a fresh root in
# the data dir (its posix backend: each bucket a directory) and random keys,
# with keep-alive (S3 keeps connections open; versitygw does not by default)
# and without request logs. Each server gets a bucket of its own
# (satchel-bench, tusd-bench) and the same part size, BENCH_S3_PART_SIZE
# (default 16MiB, Satchel's default; tusd's own default is 50 MiB): Satchel
# SATCHEL_STORAGE=s3://satchel-bench?endpoint=...&region=us-east-1 and
# SATCHEL_S3_PART_SIZE; tusd -s3-bucket tusd-bench -s3-endpoint ... (path-style
# addressing, plain HTTP from the URL) -s3-part-size, and -s3-max-buffered-parts 4
# (Satchel's fixed setting; tusd's default is 20). Both keep their defaults
# otherwise: 10 part uploads at once, 5 MiB minimum part, content hashes on
# (the SDK's SHA-256 of each part for SigV4 over plain HTTP); both read the
# same AWS_* environment (the keys, AWS_REGION=us-east-1, checksums only where
# required, no shared config or profile). Each server buffers parts in a temp
# dir of its own (TMPDIR), whose peak size the driver reports, beside the
# gateway's CPU time. The goal of (2) is 0.8x tusd on S3 (0.7x on the filestore).
#
# Output: the table on stdout, bench/out/upload-results.md, and in full mode a
# copy in bench/RESULTS-upload.md (tracked); for (5) bench/out/multipart-results.md
# and, in full mode, bench/RESULTS-multipart.md. bench/out/ is gitignored. With
# BENCH_STORE=s3 every one of these names ends in -s3, with BENCH_DB=postgres
# in -postgres (both: -s3-postgres), and so do the logs, the data dir and the
# perf files (bench/out/upload-results-s3.md, bench/RESULTS-upload-s3.md,
# bench/out/satchel-s3.log, ...): no run overwrites another kind's results.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
BIN=$OUT/bin
TUSD_VERSION=v2.10.0
START=$SECONDS

# The store both servers write to: STORE_SUFFIX tells the result files apart.
STORE=${BENCH_STORE:-file}
case $STORE in
file | filestore) STORE=file STORE_SUFFIX= DEFAULT_PHASES=123 SMALL_GOAL=0.7 ;;
s3) STORE_SUFFIX=-s3 DEFAULT_PHASES=1235 SMALL_GOAL=0.8 ;;
*)
	echo "BENCH_STORE must be file (the default) or s3" >&2
	exit 1
	;;
esac
PHASES=${BENCH_PHASES:-$DEFAULT_PHASES}
[[ $PHASES =~ ^[1235]+$ ]] || {
	echo "BENCH_PHASES must name measures among 1, 2, 3 and 5" >&2
	exit 1
}
VS_TUSD=0
[[ $PHASES == *[123]* ]] && VS_TUSD=1

if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
	MODE=quick SIZE=$((256 << 20)) SIZE_NAME=256MiB N=200
else
	MODE=full SIZE=$((1 << 30)) SIZE_NAME=1GiB N=1000
fi
# BENCH_SIZE=4GiB (or 512MiB) sets the size of the large upload of (1) and
# (5): with BENCH_PHASES=1 it shows that Satchel's RSS does not grow with it.
CUSTOM_SIZE=0
if [[ -n "${BENCH_SIZE:-}" ]]; then
	if [[ $BENCH_SIZE =~ ^([1-9][0-9]*)(MiB|GiB)$ ]]; then
		shift_by=20
		[[ ${BASH_REMATCH[2]} == GiB ]] && shift_by=30
		SIZE=$((BASH_REMATCH[1] << shift_by)) SIZE_NAME=$BENCH_SIZE CUSTOM_SIZE=1
	else
		echo "BENCH_SIZE must be a whole number of MiB or GiB, e.g. 512MiB or 4GiB" >&2
		exit 1
	fi
fi

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The database Satchel runs on: SATCHEL_DB names it in the report, SUFFIX
# tells the result files apart, PG_URL is its DATABASE_URL (postgres only).
DB=${BENCH_DB:-sqlite}
SATCHEL_DB=SQLite SUFFIX=$STORE_SUFFIX PG_ADMIN_URL= PG_URL= PG_NAME= PG_DB=
case $DB in
sqlite) ;;
postgres | postgresql | pg)
	DB=postgres SUFFIX=$STORE_SUFFIX-postgres
	PG_ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
	check_postgres "$PG_ADMIN_URL"
	SATCHEL_DB=$(postgres_label "$PG_ADMIN_URL")
	# The same server, user and parameters; a database of its own.
	PG_NAME=satchel_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	PG_URL=$(postgres_db_url "$PG_ADMIN_URL" "$PG_NAME")
	;;
*)
	echo "BENCH_DB must be sqlite (the default) or postgres" >&2
	exit 1
	;;
esac

# S3: the gateway and the part size (checked before anything is built).
VGW_BIN= VGW_VERSION= PART_SIZE= PART_NAME=
if [[ $STORE == s3 ]]; then
	PART_NAME=${BENCH_S3_PART_SIZE:-16MiB}
	if [[ $PART_NAME =~ ^([1-9][0-9]*)MiB$ ]] && ((BASH_REMATCH[1] >= 5)); then
		PART_SIZE=$((BASH_REMATCH[1] << 20))
	else
		echo "BENCH_S3_PART_SIZE must be a whole number of MiB, at least 5MiB (S3's minimum part), e.g. 16MiB" >&2
		exit 1
	fi
	VGW_BIN=${SATCHEL_VERSITYGW:-$ROOT/tools/bin/versitygw}
	[[ -x $VGW_BIN ]] || VGW_BIN=$(command -v versitygw || true)
	[[ -n $VGW_BIN ]] || {
		echo "BENCH_STORE=s3 needs versitygw: run scripts/versitygw.sh (make bench-s3 does), or set SATCHEL_VERSITYGW" >&2
		exit 1
	}
	# `versitygw --version` does not name its version; scripts/versitygw.sh
	# leaves it beside the binary.
	VGW_VERSION=$(cat "$VGW_BIN.version" 2>/dev/null || echo "(version unknown)")
fi

export GOTOOLCHAIN=local GOWORK=off
mkdir -p "$BIN"

log "building satchel"
go build -buildvcs=false -o "$BIN/satchel" .
log "building the driver"
go build -buildvcs=false -o "$BIN/uploadbench" ./bench/uploadbench

# tusd, pinned. `GOBIN=... go install github.com/tus/tusd/v2/cmd/tusd@v2.10.0`
# is refused here: before installing, go install looks up the module's
# deprecation, which needs the proxy's version list
# (github.com/tus/tusd/v2/@v/list), and the proxy answers that with
# "403 Forbidden: This module version is not available" (the exact version's
# .info/.mod/.zip are served fine). So the same build is made from a throwaway
# module that requires exactly tusd v2.10.0 and nothing else: `go get` of an
# exact version does no list lookup, its dependencies are the ones tusd
# v2.10.0's go.mod selects (minimal version selection, as go install would
# pick), and every download is checked against the checksum database.
build_tusd() {
	local mod=$OUT/tusd-build
	mkdir -p "$mod"
	if ! grep -qs "github.com/tus/tusd/v2 $TUSD_VERSION" "$mod/go.mod"; then
		rm -f "$mod/go.mod" "$mod/go.sum"
		printf 'module satchelbench/tusd\n\ngo 1.25.8\n' >"$mod/go.mod"
		(cd "$mod" && go get "github.com/tus/tusd/v2/cmd/tusd@$TUSD_VERSION") >"$mod/get.log" 2>&1 || {
			cat "$mod/get.log" >&2
			return 1
		}
	fi
	(cd "$mod" && go build -buildvcs=false -trimpath \
		-ldflags "-X github.com/tus/tusd/v2/cmd/tusd/cli.VersionName=$TUSD_VERSION" \
		-o "$BIN/tusd" github.com/tus/tusd/v2/cmd/tusd)
}
if ((VS_TUSD)); then
	log "building tusd $TUSD_VERSION (standalone binary; the first build takes ~2 min)"
	build_tusd
	"$BIN/tusd" -version | grep -q "Version: $TUSD_VERSION" || {
		log "tusd binary does not report $TUSD_VERSION"
		exit 1
	}
fi

SPID= TPID= GPID= PERFPIDS= DATA=
cleanup() {
	local pid
	for pid in $PERFPIDS $SPID $TPID; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $PERFPIDS $SPID $TPID; do
		wait "$pid" 2>/dev/null || true
	done
	# The gateway last: the servers may still talk to it on their way out.
	if [[ -n "$GPID" ]]; then
		kill "$GPID" 2>/dev/null || true
		wait "$GPID" 2>/dev/null || true
	fi
	if [[ -n "$DATA" && "${BENCH_KEEP_DATA:-0}" != 1 ]]; then
		rm -rf "$DATA"
	fi
	if [[ -n "$PG_DB" ]]; then
		if [[ "${BENCH_KEEP_DATA:-0}" == 1 ]]; then
			log "kept the database $PG_DB (DATABASE_URL=$(redact_url "$PG_URL"))"
		else
			drop_postgres_db "$PG_ADMIN_URL" "$PG_DB"
		fi
	fi
}
trap cleanup EXIT


# wait_listening PORT PID NAME LOG waits until the process listens.
wait_listening() {
	local i
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 "$2" 2>/dev/null; then
			log "$3 exited at start-up:"
			tail -n 20 "$4" >&2
			exit 1
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	log "$3 did not listen on 127.0.0.1:$1 within 30 s"
	exit 1
}

DATA=$OUT/data$SUFFIX
[[ -z "${BENCH_DATA_DIR:-}" ]] || DATA=$BENCH_DATA_DIR/satchel-upload-bench$SUFFIX
rm -rf "$DATA"
SDATA=$DATA/satchel TDATA=$DATA/tusd
mkdir -p "$SDATA" "$TDATA"

# SQLite: no DATABASE_URL (unset below), so the default, $SDATA/satchel.db.
DB_ENV=()
if [[ $DB == postgres ]]; then
	PG_DB=$PG_NAME # from here on, cleanup drops it
	log "creating the database $PG_DB ($SATCHEL_DB)"
	psql "$PG_ADMIN_URL" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $PG_DB" >/dev/null
	DB_ENV=(DATABASE_URL="$PG_URL")
fi

# The store: nothing for the filestore (each server's data dir); for S3 the
# gateway, the buckets, and each server's S3 settings and AWS environment.
# Each *_ENV is VAR=value words for env, after UNSET_ENV (env's -u options).
UNSET_ENV=(-u SATCHEL_STORAGE -u SATCHEL_S3_PART_SIZE -u DATABASE_URL)
SATCHEL_STORE_ENV=() TUSD_STORE_ARGS=(-upload-dir "$TDATA") TUSD_STORE_ENV=()
STORE_LABEL=filestore SATCHEL_STORE_DESC= TUSD_STORE_DESC= STORE_DRIVER_ARGS=()
if [[ $STORE == s3 ]]; then
	S3ROOT=$DATA/s3root STMP=$DATA/satchel-tmp TTMP=$DATA/tusd-tmp
	mkdir -p "$S3ROOT" "$STMP" "$TTMP"
	GPORT=$(free_port 18470)
	S3_ACCESS=bench$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	S3_SECRET=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
	S3_ENDPOINT=http://127.0.0.1:$GPORT
	log "starting versitygw $VGW_VERSION on 127.0.0.1:$GPORT (posix backend, root: ${S3ROOT#"$ROOT"/})"
	# Always an explicit 127.0.0.1: versitygw's default listens on every interface.
	VGW_ARGS=(--port "127.0.0.1:$GPORT" --access "$S3_ACCESS" --secret "$S3_SECRET" --region us-east-1 --quiet --keep-alive)
	if [[ "${BENCH_S3_ACCESS_LOG:-0}" == 1 ]]; then
		rm -f "$OUT/versitygw-access$SUFFIX.log"
		VGW_ARGS+=(--access-log "$OUT/versitygw-access$SUFFIX.log")
		log "logging every S3 request to ${OUT#"$ROOT"/}/versitygw-access$SUFFIX.log (costs the gateway CPU: not for figures)"
	fi
	"$VGW_BIN" "${VGW_ARGS[@]}" posix "$S3ROOT" >"$OUT/versitygw$SUFFIX.log" 2>&1 &
	GPID=$!
	wait_listening "$GPORT" "$GPID" versitygw "$OUT/versitygw$SUFFIX.log"
	# A bucket of the posix backend is a directory of its root.
	mkdir "$S3ROOT/satchel-bench" "$S3ROOT/tusd-bench"
	# The same AWS environment for both servers: the gateway's keys, its
	# region, the SDK's checksums only where S3 requires them (Satchel sets
	# that itself; tusd reads it from here), nothing from ~/.aws or a profile.
	UNSET_ENV+=(-u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 -u AWS_DEFAULT_REGION)
	AWS_ENV=(AWS_ACCESS_KEY_ID="$S3_ACCESS" AWS_SECRET_ACCESS_KEY="$S3_SECRET" AWS_REGION=us-east-1
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
		AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required)
	SATCHEL_STORE_ENV=("${AWS_ENV[@]}" TMPDIR="$STMP"
		SATCHEL_STORAGE="s3://satchel-bench?endpoint=http%3A%2F%2F127.0.0.1%3A$GPORT&region=us-east-1"
		SATCHEL_S3_PART_SIZE="$PART_NAME")
	TUSD_STORE_ENV=("${AWS_ENV[@]}" TMPDIR="$TTMP")
	TUSD_STORE_ARGS=(-s3-bucket tusd-bench -s3-endpoint "$S3_ENDPOINT" -s3-part-size "$PART_SIZE" -s3-max-buffered-parts 4)
	STORE_LABEL="S3 on versitygw $VGW_VERSION (posix backend, 127.0.0.1, --keep-alive), $PART_NAME parts"
	SATCHEL_STORE_DESC="tusd s3store (bucket satchel-bench, SATCHEL_S3_PART_SIZE=$PART_NAME, its fixed 4 buffered parts, 10 part uploads at once) + in-process locker"
	TUSD_STORE_DESC="s3store \`${TUSD_STORE_ARGS[*]}\` (10 part uploads at once, content hashes on), its in-process locker"
	# What Satchel's temp dir may hold during one upload: the part being
	# filled, 4 buffered and 10 on their way to S3 (README, "S3 storage").
	STORE_DRIVER_ARGS=(-gateway-pid "$GPID" -satchel-tmp "$STMP" -tusd-tmp "$TTMP" -tmp-bound $((15 * PART_SIZE)))
fi

SPORT=$(free_port 18480)
log "starting satchel on 127.0.0.1:$SPORT (data: ${SDATA#"$ROOT"/}; database: $SATCHEL_DB${PG_DB:+, $PG_DB}; store: $STORE_LABEL)"
env "${UNSET_ENV[@]}" "${SATCHEL_STORE_ENV[@]}" "${DB_ENV[@]}" \
	SATCHEL_DATA_DIR="$SDATA" SATCHEL_ADDR="127.0.0.1:$SPORT" \
	SATCHEL_PUBLIC_URL="http://127.0.0.1:$SPORT" SATCHEL_LOG_LEVEL=warn \
	SATCHEL_MAX_UPLOAD_SIZE=20GiB \
	"$BIN/satchel" serve >"$OUT/satchel$SUFFIX.log" 2>&1 &
SPID=$!
wait_listening "$SPORT" "$SPID" satchel "$OUT/satchel$SUFFIX.log"
[[ -s "$SDATA/bootstrap-keys.json" ]] || {
	log "satchel wrote no $SDATA/bootstrap-keys.json"
	exit 1
}

TUSD_ARGS=()
if ((VS_TUSD)); then
	TPORT=$(free_port $((SPORT + 1)))
	log "starting tusd $TUSD_VERSION on 127.0.0.1:$TPORT (${TUSD_STORE_ARGS[*]})"
	env "${UNSET_ENV[@]}" "${TUSD_STORE_ENV[@]}" \
		"$BIN/tusd" "${TUSD_STORE_ARGS[@]}" -host 127.0.0.1 -port "$TPORT" -base-path /files/ \
		-verbose=false -show-startup-logs=false -show-greeting=false \
		>"$OUT/tusd$SUFFIX.log" 2>&1 &
	TPID=$!
	wait_listening "$TPORT" "$TPID" tusd "$OUT/tusd$SUFFIX.log"
	TUSD_ARGS=(-tusd-url "http://127.0.0.1:$TPORT/files/" -tusd-pid "$TPID")
fi

if [[ "${BENCH_PERF:-0}" == 1 ]]; then
	log "recording CPU profiles of satchel (pid $SPID)${TPID:+, tusd (pid $TPID)}${GPID:+ and versitygw (pid $GPID)} with perf"
	perf record -F 499 -g -p "$SPID" -o "$OUT/satchel$SUFFIX.perf.data" >"$OUT/satchel$SUFFIX.perf.log" 2>&1 &
	PERFPIDS=$!
	if ((VS_TUSD)); then
		perf record -F 499 -g -p "$TPID" -o "$OUT/tusd$SUFFIX.perf.data" >"$OUT/tusd$SUFFIX.perf.log" 2>&1 &
		PERFPIDS="$PERFPIDS $!"
	fi
	if [[ -n "$GPID" ]]; then
		perf record -F 499 -g -p "$GPID" -o "$OUT/versitygw$SUFFIX.perf.data" >"$OUT/versitygw$SUFFIX.perf.log" 2>&1 &
		PERFPIDS="$PERFPIDS $!"
	fi
fi

REV=$(git describe --always --dirty 2>/dev/null || echo unknown)
log "running the driver ($MODE: measures $PHASES, $SIZE_NAME upload, $N uploads; satchel on $SATCHEL_DB, pid $SPID; tusd pid ${TPID:-none}; store: $STORE_LABEL${GPID:+, gateway pid $GPID})"
"$BIN/uploadbench" \
	-satchel-url "http://127.0.0.1:$SPORT/uploads/" -satchel-data "$SDATA" -satchel-pid "$SPID" \
	"${TUSD_ARGS[@]}" "${STORE_DRIVER_ARGS[@]}" \
	-store "$STORE_LABEL" -satchel-store "$SATCHEL_STORE_DESC" -tusd-store "$TUSD_STORE_DESC" -small-goal "$SMALL_GOAL" \
	-file "$OUT/blob-$SIZE_NAME.bin" -size "$SIZE" -n "$N" -runs "${BENCH_RUNS:-3}" \
	-mode "$MODE" -nproc "$(nproc)" -satchel-rev "$REV" -satchel-db "$SATCHEL_DB" -tusd-version "$TUSD_VERSION" \
	-md "$OUT/upload-results$SUFFIX.md" -multipart-md "$OUT/multipart-results$SUFFIX.md" -phases "$PHASES" "$@"

if [[ -n "$PERFPIDS" ]]; then
	for pid in $PERFPIDS; do
		kill -INT "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	PERFPIDS=
	log "profiles: perf report --no-children -i ${OUT#"$ROOT"/}/satchel$SUFFIX.perf.data${TPID:+ (or tusd$SUFFIX.perf.data)}${GPID:+ (or versitygw$SUFFIX.perf.data)}"
fi

for name in satchel tusd versitygw; do
	case $name in
	satchel) pid=$SPID ;;
	tusd)
		((VS_TUSD)) || continue
		pid=$TPID
		;;
	versitygw)
		[[ -n "$GPID" ]] || continue
		pid=$GPID
		;;
	esac
	kill -0 "$pid" 2>/dev/null || log "warning: $name (pid $pid) is no longer running"
	lines=$(grep -ciE 'warn|error' "$OUT/$name$SUFFIX.log" || true)
	((lines == 0)) || log "note: $name logged $lines warnings/errors, see ${OUT#"$ROOT"/}/$name$SUFFIX.log"
done
if [[ $STORE == s3 ]]; then
	log "disk use at the end: gateway root $(du -sh "$S3ROOT" | cut -f1) (the objects of the warm-up, (2) and (3)), temp dirs: satchel $(du -sh "$STMP" | cut -f1), tusd $(du -sh "$TTMP" | cut -f1)"
fi

# Only a run with the default settings rewrites the tracked results: no
# quick mode, driver arguments, other size, run count or part size, and no
# profiler or request log slowing the servers down.
DEFAULTS=0
if [[ $MODE == full && $# == 0 && $CUSTOM_SIZE == 0 && -z "${BENCH_RUNS:-}" && "${BENCH_PERF:-0}" != 1 &&
	-z "${BENCH_S3_PART_SIZE:-}" && "${BENCH_S3_ACCESS_LOG:-0}" != 1 ]]; then
	DEFAULTS=1
fi
NOT_DEFAULT="quick mode, BENCH_SIZE, BENCH_RUNS, BENCH_PERF, BENCH_S3_* or driver arguments"
if ((DEFAULTS)) && [[ $PHASES == "$DEFAULT_PHASES" ]]; then
	cp "$OUT/upload-results$SUFFIX.md" "$ROOT/bench/RESULTS-upload$SUFFIX.md"
	log "wrote bench/RESULTS-upload$SUFFIX.md"
elif ((VS_TUSD)); then
	log "$NOT_DEFAULT, or BENCH_PHASES: bench/RESULTS-upload$SUFFIX.md left as it was"
fi
if [[ $PHASES == *5* ]]; then
	if ((DEFAULTS)); then
		cp "$OUT/multipart-results$SUFFIX.md" "$ROOT/bench/RESULTS-multipart$SUFFIX.md"
		log "wrote bench/RESULTS-multipart$SUFFIX.md"
	else
		log "$NOT_DEFAULT: bench/RESULTS-multipart$SUFFIX.md left as it was"
	fi
fi
log "done in $((SECONDS - START)) s"
