#!/bin/sh
# The floor for a cold `npm run setup`: the least a bare script must do to give a project its cluster and
# databases (initdb, pg_ctl start, CREATE DATABASE), with nothing checked, planned or reported.
# usage: floor.sh BIN_DIR DATA_DIR SOCKET_DIR PORT DATABASE...
# Run it as the server user (PostgreSQL refuses root). PSQL names a psql to create the databases with
# after the start; without it they are created in single-user mode before the start (no client needed).
set -eu
bin=$1 data=$2 socket=$3 port=$4
shift 4
"$bin/initdb" --pgdata "$data" --username postgres --auth-local=trust --auth-host=scram-sha-256 \
  --encoding=UTF8 --no-locale >/dev/null
if [ -z "${PSQL:-}" ]; then
  for db in "$@"; do echo "CREATE DATABASE \"$db\";"; done | "$bin/postgres" --single -D "$data" postgres >/dev/null
fi
"$bin/pg_ctl" start --pgdata "$data" --log "$data/postgresql.log" --wait --silent \
  -o "-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$socket"
if [ -n "${PSQL:-}" ]; then
  for db in "$@"; do
    "$PSQL" -X -q -h "$socket" -p "$port" -U postgres -d postgres -c "CREATE DATABASE \"$db\""
  done
fi
