# Shell helpers the benchmark scripts share; sourced, not run.

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# free_port prints the first port from $1 on that nothing listens on.
free_port() {
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	log "no free port from $1"
	return 1
}

# --- PostgreSQL (BENCH_DB=postgres) -------------------------------------------
# Each takes a postgres:// URL of the server (any of its databases) and uses
# psql, which must be on PATH.

# check_postgres URL returns when the server answers; if it does not and URL
# is the local default server (127.0.0.1 or localhost, port 5432), it starts
# the local cluster first (scripts/ensure-postgres.sh, with pg_ctlcluster).
# Otherwise it exits with a message that says how to start it.
check_postgres() {
	local url=$1 root err
	root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
	command -v psql >/dev/null || {
		log "BENCH_DB=postgres needs psql on PATH (apt-get install postgresql-client)"
		exit 1
	}
	psql "$url" -qAtc 'select 1' >/dev/null 2>&1 && return 0
	if [[ $url =~ ^postgres(ql)?://([^@/]*@)?(127\.0\.0\.1|localhost)(:5432)?(/|\?|$) ]] &&
		command -v pg_ctlcluster >/dev/null; then
		log "PostgreSQL does not answer on 127.0.0.1:5432: starting the local cluster (scripts/ensure-postgres.sh)"
		env -u CI bash "$root/scripts/ensure-postgres.sh" >/dev/null 2>&1 || true
		psql "$url" -qAtc 'select 1' >/dev/null 2>&1 && return 0
	fi
	err=$(psql "$url" -qAtc 'select 1' 2>&1 >/dev/null | head -n 3 || true)
	log "BENCH_DB=postgres: PostgreSQL does not answer at $(redact_url "$url"):"
	sed 's/^[[:space:]]*/    /' <<<"$err" >&2
	log "start the local server with: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
	log "(or point BENCH_POSTGRES_URL at a running server)"
	exit 1
}

# postgres_label URL prints the server for the report, e.g.
# "PostgreSQL 15.4 (local, 127.0.0.1)".
postgres_label() {
	local version addr
	version=$(psql "$1" -Atc 'show server_version')
	addr=$(psql "$1" -Atc "select coalesce(host(inet_server_addr()), 'Unix socket')")
	case $addr in
	127.* | ::1 | "Unix socket") addr="local, $addr" ;;
	esac
	echo "PostgreSQL ${version%% *} ($addr)"
}

# postgres_db_url URL NAME prints URL with its database replaced by NAME.
postgres_db_url() {
	local url=$1 query=
	[[ $url == *\?* ]] && query="?${url#*\?}"
	[[ ${url%%\?*} =~ ^(postgres(ql)?://[^/]*) ]] || {
		log "not a postgres:// URL: $(redact_url "$url")"
		exit 1
	}
	echo "${BASH_REMATCH[1]}/$2$query"
}

# drop_postgres_db URL NAME drops database NAME (its clients are gone by now;
# WITH (FORCE), PostgreSQL 13 and later, makes sure).
drop_postgres_db() {
	if psql "$1" -qc "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null 2>&1 ||
		psql "$1" -qc "DROP DATABASE IF EXISTS $2" >/dev/null; then
		log "dropped the database $2"
	else
		log "warning: could not drop the database $2; drop it with: psql '$(redact_url "$1")' -c 'DROP DATABASE $2'"
	fi
}

# redact_url prints a URL without its password.
redact_url() { sed -E 's#^([a-z]+://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }
