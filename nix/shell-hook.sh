# pgstrap's dev shell hook, sourced by flake.nix's shellHook (nix develop, and direnv's `use flake`).
#
# flake.nix sets PG_BIN, PGUSER and PGDATABASE, plus PGSTRAP_{STATE,DATA,SOCKET}_DIR relative to the
# project (from nix/extensions.json, which `npm run setup` writes from extensions.config.ts). This hook
# turns those into absolute PGHOST, PGDATA, PGPASSFILE and DATABASE_URL, and sets PGPORT. It only joins paths and reads
# one small file: no Node, no network, so entering the shell stays instant. In the two cases where the
# orchestrator places things elsewhere (a socket path over the 103-byte limit, or running as root,
# where state may move to /var/lib/pgstrap), it asks the orchestrator itself (`pgstrap env` from
# node_modules/.bin in an app, `npm run --silent env` here) when node_modules is there, so the values always match what `npm run setup` uses.

pgstrap_shell_hook() {
  local root=$PWD
  # The project is the nearest folder up from here with flake.nix and nix/extensions.json.
  while [[ -n $root && ! (-f $root/flake.nix && -f $root/nix/extensions.json) ]]; do
    root=${root%/*}
  done
  if [[ -z $root ]]; then
    printf 'pgstrap: not inside a pgstrap project (no flake.nix with nix/extensions.json above %s); PGHOST and DATABASE_URL are not set\n' "$PWD" >&2
    return 0
  fi

  local abs
  pgstrap_abs() { if [[ $1 == /* ]]; then abs=$1; else abs=$root/$1; fi; }
  pgstrap_abs "${PGSTRAP_STATE_DIR:-.pgstrap}"
  local state_dir=$abs
  pgstrap_abs "${PGSTRAP_DATA_DIR:-.pgstrap/data}"
  export PGDATA=$abs
  pgstrap_abs "${PGSTRAP_SOCKET_DIR:-.pgstrap/run}"
  export PGHOST=$abs
  export PGPASSFILE=$state_dir/pgpass
  unset -f pgstrap_abs

  # The port: what pgstrap recorded in the state folder (each command that opens the cluster writes it), else
  # the default it derives from the project folder (scripts/config/default-port.ts: POSIX cksum of the
  # physical path, 25000-25999). nix/extensions.json holds no port: it is one machine's.
  local port=''
  if [[ -r $state_dir/port ]]; then read -r port < "$state_dir/port" || true; fi
  if [[ ! $port =~ ^[0-9]+$ ]]; then
    local physical
    physical=$(cd "$root" && pwd -P)
    port=$(( 25000 + $(printf %s "$physical" | cksum | cut -d' ' -f1) % 1000 ))
  fi
  export PGPORT=$port

  # The password exists once `npm run setup` has initialised the cluster (base64url: URL-safe as is).
  local password='' auth
  if [[ -r $state_dir/password ]]; then read -r password < "$state_dir/password" || true; fi
  auth=$PGUSER${password:+:$password}
  export DATABASE_URL="postgresql://$auth@127.0.0.1:$PGPORT/$PGDATABASE"

  local socket=$PGHOST/.s.PGSQL.$PGPORT
  if { (( $(LC_ALL=C; printf '%s' "${#socket}") > 103 )) || (( EUID == 0 )); } && [[ -d $root/node_modules ]]; then
    local exports static_host=$PGHOST
    # An app that installed pgstrap has its bin; this repository runs its npm script.
    local env_command=(npm run --silent env)
    [[ -x $root/node_modules/.bin/pgstrap ]] && env_command=("$root/node_modules/.bin/pgstrap" env)
    if exports=$(cd "$root" && "${env_command[@]}" 2> /dev/null); then eval "$exports"; fi
    # A relocated cluster (root, /var/lib/pgstrap/<tag>) keeps data/ beside run/, unless dataDir is configured.
    if [[ $PGHOST != "$static_host" && $PGHOST == */run && $PGSTRAP_DATA_DIR == "$PGSTRAP_STATE_DIR/data" ]]; then
      export PGDATA=${PGHOST%/run}/data
    fi
  fi

  local next='npm run setup'
  [[ -d $root/node_modules ]] || next='npm ci && npm run setup'
  [[ -x $root/node_modules/.bin/pgstrap ]] && next='npx pgstrap setup'
  if [[ -n ${DIRENV_IN_ENVRC:-} ]]; then
    # direnv prints its own list of variables; one line is enough.
    printf 'pgstrap: %s; next: %s\n' "$PGSTRAP_SHELL_SUMMARY" "$next" >&2
  else
    printf 'pgstrap dev shell: %s\n' "$PGSTRAP_SHELL_SUMMARY" >&2
    printf '  PG_BIN=%s (the system engine uses it)\n' "$PG_BIN" >&2
    printf '  psql connects to %s on %s:%s (PGHOST, PGPORT, PGDATABASE, DATABASE_URL are set)\n' "$PGDATABASE" "$PGHOST" "$PGPORT" >&2
    printf '  next: %s\n' "$next" >&2
  fi
}
pgstrap_shell_hook
unset -f pgstrap_shell_hook
