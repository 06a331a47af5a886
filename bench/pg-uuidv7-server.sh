#!/bin/sh
# For the bench only: a private copy of Debian's PostgreSQL 15 with pg_uuidv7 built from upstream's source
# (https://github.com/fboulnois/pg_uuidv7, a checkout you provide), so pg_uuidv7's wrapper and the SQL fallback
# can be measured on the same server. Nothing is installed into the system: the server files are hard-linked
# into OUT (PostgreSQL finds its share and lib folders relative to its binaries) and the extension added there.
# Needs postgresql-15 and postgresql-server-dev-15 (apt-get install postgresql-server-dev-15).
# usage: bench/pg-uuidv7-server.sh PG_UUIDV7_SOURCE OUT      then PG_BIN=OUT/usr/lib/postgresql/15/bin
set -eu
src=$1 out=$2
pg_config=/usr/lib/postgresql/15/bin/pg_config
[ -x "$pg_config" ] || { echo "pg-uuidv7-server: needs postgresql-15 and postgresql-server-dev-15" >&2; exit 1; }
build=$(mktemp -d /var/tmp/pg_uuidv7-build.XXXXXX)
trap 'rm -rf "$build"' EXIT INT TERM
cp -R "$src"/. "$build"
make -C "$build" PG_CONFIG="$pg_config" >/dev/null
rm -rf "$out"
mkdir -p "$out/usr/lib/postgresql" "$out/usr/share/postgresql"
cp -al /usr/lib/postgresql/15 "$out/usr/lib/postgresql/"
cp -al /usr/share/postgresql/15 "$out/usr/share/postgresql/"
cp "$build/pg_uuidv7.so" "$out/usr/lib/postgresql/15/lib/"
cp "$build/pg_uuidv7.control" "$build"/sql/pg_uuidv7--*.sql "$out/usr/share/postgresql/15/extension/"
echo "PG_BIN=$out/usr/lib/postgresql/15/bin ($(sed -n "s/^default_version = '\(.*\)'/pg_uuidv7 \1/p" "$build/pg_uuidv7.control"))"
