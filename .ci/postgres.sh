#!/usr/bin/env bash
# Starts a local PostgreSQL for the tests of engine/journal/postgres (the
# shared journal) and prints the DSN they read:
#
#	PAYCODE_TEST_POSTGRES=postgres://paycode:paycode@127.0.0.1:5432/paycode_test?sslmode=disable
#
# Run it (bash .ci/postgres.sh) or source it (. .ci/postgres.sh), which
# also exports PAYCODE_TEST_POSTGRES into the calling shell. It is
# idempotent: on a fresh Debian 12 machine (as root) it installs the
# postgresql package, creates and starts the cluster, the role and the
# database; on later runs it only checks and starts what is down. The
# server listens on 127.0.0.1 only (Debian's default) and the role logs in
# with a password over TCP (Debian's default pg_hba: scram-sha-256).
#
# Environment (all optional): PAYCODE_PG_USER, PAYCODE_PG_PASSWORD,
# PAYCODE_PG_DB (defaults paycode, paycode, paycode_test) and
# PAYCODE_PG_WAIT (seconds to wait for the server, default 60).

_paycode_postgres() (
	set -euo pipefail
	user=${PAYCODE_PG_USER:-paycode}
	pass=${PAYCODE_PG_PASSWORD:-paycode}
	db=${PAYCODE_PG_DB:-paycode_test}
	wait=${PAYCODE_PG_WAIT:-60}
	log() { echo "postgres.sh: $*" >&2; }

	if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
		log "installing postgresql (apt-get)"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq postgresql >/dev/null
	fi

	# The newest installed server version, and its cluster (create one if
	# the package did not, e.g. with create_main_cluster = false).
	ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
	if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {found=1} END {exit !found}'; then
		log "creating cluster $ver/main"
		pg_createcluster "$ver" main >&2
	fi
	port=$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $3}')
	status=$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $4}')
	if [ "$status" != "online" ]; then
		log "starting cluster $ver/main on port $port"
		pg_ctlcluster "$ver" main start >&2
	fi

	deadline=$((SECONDS + wait))
	until pg_isready -q -h 127.0.0.1 -p "$port"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "server not accepting connections on 127.0.0.1:$port after ${wait}s"
			exit 1
		fi
		sleep 0.2
	done

	su_psql() { runuser -u postgres -- psql -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }
	# Role and database, created once; the password is (re)set each run so
	# that a changed PAYCODE_PG_PASSWORD takes effect.
	su_psql -d postgres -v u="$user" -v p="$pass" >&2 <<-'SQL'
		SELECT format('CREATE ROLE %I LOGIN', :'u')
		WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
		SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'u', :'p') \gexec
	SQL
	su_psql -d postgres -v u="$user" -v d="$db" >&2 <<-'SQL'
		SELECT format('CREATE DATABASE %I OWNER %I', :'d', :'u')
		WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'d') \gexec
	SQL

	dsn="postgres://$user:$pass@127.0.0.1:$port/$db?sslmode=disable"
	# The way the tests connect: TCP, password.
	deadline=$((SECONDS + wait))
	until PGCONNECT_TIMEOUT=5 psql -X -q "$dsn" -c 'SELECT 1' >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			PGCONNECT_TIMEOUT=5 psql -X -q "$dsn" -c 'SELECT 1' >&2 || true
			log "cannot log in as $user to $db on 127.0.0.1:$port"
			exit 1
		fi
		sleep 0.2
	done
	echo "$dsn"
)

if _paycode_pg_dsn=$(_paycode_postgres); then
	export PAYCODE_TEST_POSTGRES="$_paycode_pg_dsn"
	echo "PAYCODE_TEST_POSTGRES=$PAYCODE_TEST_POSTGRES"
	unset -f _paycode_postgres
	unset _paycode_pg_dsn
else
	_paycode_pg_rc=$?
	unset -f _paycode_postgres
	unset _paycode_pg_dsn
	# return when sourced, exit when run
	return "$_paycode_pg_rc" 2>/dev/null || exit "$_paycode_pg_rc"
fi
