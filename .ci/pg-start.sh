#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on loopback.
# Usage: eval "$(bash .ci/pg-start.sh)"  -> exports PGCI_DIR, PGCI_BIN, TEST_DATABASE_URL and PG* (libpq)
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$PGBIN" ]; then
  echo "installing postgresql via apt" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
DIR=$(mktemp -d -t pgci.XXXXXX)
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$DIR"; AS=(runuser -u postgres --)   # initdb/postgres refuse to run as root
else
  AS=()
fi
chmod 700 "$DIR"
# A start that fails half-way leaves nothing behind: no running server, no directory.
trap 'rc=$?; if [ $rc -ne 0 ]; then "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1; rm -rf "$DIR"; fi' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# PGCI_FAST=1 (the test suite): no fsync and no full-page writes. A crash of PostgreSQL or of the app loses
# nothing (the WAL still reaches the OS before a commit answers); only a crash of the machine could, and a
# throwaway cluster does not outlive one. Benchmarks leave it unset and measure a durable server.
FAST=""; [ "${PGCI_FAST:-}" = 1 ] && FAST="-c fsync=off -c full_page_writes=off"
DB=tracker_test; USER_=tracker; PASS=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
"${AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=300 $FAST" \
  start >&2 || { cat "$DIR/server.log" >&2; exit 1; }
"${AS[@]}" "$PGBIN/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >&2 <<SQL
CREATE ROLE $USER_ LOGIN PASSWORD '$PASS' CREATEDB;
CREATE DATABASE $DB OWNER $USER_;
SQL
cat <<ENV
export PGCI_DIR=$DIR PGCI_BIN=$PGBIN PGCI_FAST=${PGCI_FAST:-0}
export TEST_DATABASE_URL=postgresql://$USER_:$PASS@127.0.0.1:$PORT/$DB
export PGHOST=127.0.0.1 PGPORT=$PORT PGDATABASE=$DB PGUSER=$USER_ PGPASSWORD=$PASS
ENV
