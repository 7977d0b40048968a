#!/bin/sh
# A throwaway PostgreSQL 15 for tests and `make cluster`: initdb in a new temporary directory,
# listening on a free loopback port (and a socket in that directory), fsync on, trust
# authentication (loopback only), superuser `pier`, a database `pier`.
#
#   scripts/pg-test.sh start [STATE]  starts one; prints its URL (postgresql://pier@127.0.0.1:PORT/pier).
#                                     STATE (a directory, created if missing) gets `url` and `dir`
#                                     so that others find it; the cluster itself lives in a new
#                                     directory under ${TMPDIR:-/tmp} (the postgres user must
#                                     reach it: a build tree under /root would not do).
#   scripts/pg-test.sh stop STATE|DIR stops it (fast, then SIGKILL) and removes its directory.
#   scripts/pg-test.sh url STATE|DIR  prints the URL again.
#
# PostgreSQL refuses to run as root, and CI runs as root: then initdb and postgres run as the
# `postgres` user (created as a system user if missing) through runuser. Every wait is bounded.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
START_TIMEOUT=${PG_TEST_START_TIMEOUT:-60}

die() { echo "pg-test: $*" >&2; exit 1; }

# Runs "$@" as the unprivileged user when we are root.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$PGUSER_OS" -- "$@"
	else
		"$@"
	fi
}

pick_os_user() {
	PGUSER_OS=$(id -un)
	[ "$(id -u)" -eq 0 ] || return 0
	PGUSER_OS=postgres
	if ! id -u "$PGUSER_OS" >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS" ||
			die "cannot create the user $PGUSER_OS"
	fi
}

# A TCP port on 127.0.0.1 that nothing listens on now (random in 20000-59999).
free_port() {
	i=0
	while [ $i -lt 200 ]; do
		p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 + 20000 ))
		if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
		i=$((i + 1))
	done
	die "no free port found"
}

# The cluster directory of STATE|DIR.
cluster_dir() {
	if [ -f "$1/dir" ]; then
		cat "$1/dir"
	else
		echo "$1"
	fi
}

do_start() {
	state=${1:-}
	[ -x "$PGBIN/initdb" ] || die "$PGBIN/initdb is missing (scripts/deps.sh installs postgresql)"
	pick_os_user
	dir=$(mktemp -d "${TMPDIR:-/tmp}/pier-pg-XXXXXX")
	chmod 0755 "$dir"
	mkdir "$dir/data" "$dir/sock"
	[ "$(id -u)" -ne 0 ] || chown "$PGUSER_OS" "$dir" "$dir/data" "$dir/sock"
	as_pg test -w "$dir/data" || die "$PGUSER_OS cannot write $dir (is ${TMPDIR:-/tmp} reachable?)"
	if ! as_pg "$PGBIN/initdb" -N -D "$dir/data" -U pier --auth=trust -E UTF8 --locale=C.UTF-8 \
		>"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	fi
	cat >>"$dir/data/postgresql.conf" <<EOF
# pg-test.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
fsync = on
synchronous_commit = on
max_connections = 200
shared_buffers = 32MB
logging_collector = off
log_min_messages = warning
EOF
	tries=0
	while :; do
		port=$(free_port)
		if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "-p $port" \
			-w -t "$START_TIMEOUT" start >/dev/null 2>&1; then
			break
		fi
		tries=$((tries + 1))
		as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
		if [ $tries -ge 5 ]; then
			tail -n 20 "$dir/postgres.log" >&2 || true
			rm -rf "$dir"
			die "postgres did not start"
		fi
	done
	echo "$port" >"$dir/port"
	if ! as_pg "$PGBIN/psql" -q -X -h "$dir/sock" -p "$port" -U pier -d postgres \
		-c "CREATE DATABASE pier" >/dev/null 2>"$dir/psql.err"; then
		cat "$dir/psql.err" >&2
		do_stop "$dir"
		die "CREATE DATABASE failed"
	fi
	url="postgresql://pier@127.0.0.1:$port/pier"
	echo "$url" >"$dir/url"
	if [ -n "$state" ]; then
		mkdir -p "$state"
		echo "$dir" >"$state/dir"
		echo "$url" >"$state/url"
	fi
	echo "pg-test: PostgreSQL in $dir (stop: $0 stop ${state:-$dir})" >&2
	echo "$url"
}

do_stop() {
	[ -n "${1:-}" ] || die "usage: $0 stop STATE|DIR"
	dir=$(cluster_dir "$1")
	pick_os_user
	if [ -f "$dir/data/postmaster.pid" ]; then
		if ! as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 20 stop >/dev/null 2>&1; then
			pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
			[ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	case "$dir" in
	*/pier-pg-*) rm -rf "$dir" ;;
	*) echo "pg-test: not removing $dir (not made by pg-test.sh)" >&2 ;;
	esac
	[ ! -f "$1/dir" ] || rm -f "$1/dir" "$1/url"
}

case "${1:-}" in
start) do_start "${2:-}" ;;
stop) do_stop "${2:-}" ;;
url) cat "$(cluster_dir "${2:?usage: $0 url STATE|DIR}")/url" ;;
*) echo "usage: $0 start [STATE] | stop STATE|DIR | url STATE|DIR" >&2; exit 2 ;;
esac
