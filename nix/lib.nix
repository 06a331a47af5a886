# pgstrap's Nix functions, for its own flake and for other flakes (docs/nix.md, "In your own flake"):
# `import ./nix/lib.nix { nixpkgs = <the default nixpkgs>; }`; flake.nix exports the result as `lib`.
# Builtins only besides `import nixpkgs`, so a flake that passes its own nixpkgs never needs pgstrap's.
{ nixpkgs }:
let
  defaultNixpkgs = nixpkgs;
  defaultSystems = [
    "x86_64-linux"
    "aarch64-linux"
    "x86_64-darwin"
    "aarch64-darwin"
  ];

  genAttrs =
    names: f:
    builtins.listToAttrs (
      map (name: {
        inherit name;
        value = f name;
      }) names
    );
  # What nixpkgs' lib.getName returns, and what allowUnfreePredicate compares.
  getName = pkg: pkg.pname or (builtins.parseDrvName pkg.name).name;
  shellQuote = value: "'${builtins.replaceStrings [ "'" ] [ "'\\''" ] value}'";

  # nix/extensions.json: written by `pgstrap setup` from extensions.config.ts and pgstrap's extension
  # catalogue, so the extension list is typed once and a flake reads data, never TypeScript.
  readSpec = extensionsFile: builtins.fromJSON (builtins.readFile extensionsFile);

  # nixpkgs for one system, where the unfree extensions the file lists (timescaledb's TSL licence,
  # lantern's BSL) are allowed one by one and everything else keeps nixpkgs' default refusal.
  # allowUnfreePredicate is given a package and compares its name (lib.getName: the pname), so the
  # file's attribute names are turned into the pnames of those attributes (lantern is
  # postgresql-lantern), read lazily from this very package set. `config` and `overlays` are the
  # caller's; its own allowUnfreePredicate still applies.
  importNixpkgs =
    {
      system,
      extensionsFile,
      nixpkgs ? defaultNixpkgs,
      config ? { },
      overlays ? [ ],
    }:
    let
      spec = readSpec extensionsFile;
      theirs = config.allowUnfreePredicate or (_: false);
      # An attribute this nixpkgs lacks keeps its own name (withPackages then names it as missing).
      unfreeNames = map (attr: getName (pkgs.${spec.postgresql}.pkgs.${attr} or { pname = attr; })) spec.unfree;
      pkgs = import nixpkgs {
        inherit system overlays;
        config = config // {
          allowUnfreePredicate = pkg: builtins.elem (getName pkg) unfreeNames || theirs pkg;
        };
      };
    in
    pkgs;

  # The server with every declared extension; `ps` is postgresql_<major>.pkgs. An attribute that
  # nixpkgs lacks for this major fails here, but the orchestrator reports it at setup first.
  # `pkgs` must allow the file's unfree extensions: importNixpkgs does.
  mkPostgres =
    { pkgs, extensionsFile }:
    let
      spec = readSpec extensionsFile;
    in
    pkgs.${spec.postgresql}.withPackages (ps: map (name: ps.${name}) spec.extensions);

  # What the dev shell exports: PG_BIN for the orchestrator's system engine, and the fixed values of
  # `pgstrap env`; nix/shell-hook.sh adds the ones that need the project's absolute path (PGHOST,
  # PGDATA, PGPASSFILE, DATABASE_URL) and PGPORT, which is one machine's (recorded in <stateDir>/port,
  # else derived from the project folder), so nix/extensions.json holds none.
  shellVariables =
    {
      pkgs,
      extensionsFile,
      postgres ? mkPostgres { inherit pkgs extensionsFile; },
      nodejs ? pkgs.nodejs_22,
    }:
    let
      spec = readSpec extensionsFile;
      extensionList = if spec.extensions == [ ] then "contrib only" else builtins.concatStringsSep ", " spec.extensions;
    in
    {
      PG_BIN = "${postgres}/bin";
      PGUSER = spec.shell.user;
      PGDATABASE = spec.shell.database;
      PGSTRAP_STATE_DIR = spec.shell.stateDir;
      PGSTRAP_DATA_DIR = spec.shell.dataDir;
      PGSTRAP_SOCKET_DIR = spec.shell.socketDir;
      PGSTRAP_SHELL_SUMMARY = "PostgreSQL ${postgres.version} (${extensionList}), Node.js ${nodejs.version}";
    };

  # A shellHook that exports those variables and runs nix/shell-hook.sh: complete on its own, so it
  # works in any mkShell, and through mkShell's inputsFrom (which merges hooks, not variables).
  shellHook =
    args:
    builtins.concatStringsSep "\n" (
      builtins.attrValues (builtins.mapAttrs (name: value: "export ${name}=${shellQuote value}") (shellVariables args))
      ++ [ "source ${./shell-hook.sh}" ]
    )
    + "\n";

  # The dev shell: the server, Node.js 22 LTS (package.json's engines) and the variables; `packages`
  # adds the caller's tools.
  mkDevShell =
    {
      pkgs,
      extensionsFile,
      postgres ? mkPostgres { inherit pkgs extensionsFile; },
      nodejs ? pkgs.nodejs_22,
      packages ? [ ],
      name ? "pgstrap",
    }:
    let
      args = { inherit pkgs extensionsFile postgres nodejs; };
    in
    pkgs.mkShell (
      shellVariables args
      // {
        inherit name;
        packages = [
          postgres
          nodejs
        ]
        ++ packages;
        shellHook = shellHook args;
      }
    );

  # Boots the built server in the sandbox and creates every declared extension: what
  # `nix flake check` proves beyond evaluation.
  mkExtensionsCheck =
    {
      pkgs,
      extensionsFile,
      postgres ? mkPostgres { inherit pkgs extensionsFile; },
    }:
    let
      check = (readSpec extensionsFile).check;
      quoteIdent = name: ''"${builtins.replaceStrings [ ''"'' ] [ ''""'' ] name}"'';
      quoteLiteral = value: "'${builtins.replaceStrings [ "'" ] [ "''" ] value}'";
      conf = builtins.concatStringsSep "\n" (
        [ "shared_preload_libraries = ${quoteLiteral (builtins.concatStringsSep "," check.preload)}" ]
        ++ map (name: "${name} = ${quoteLiteral check.settings.${name}}") (builtins.attrNames check.settings)
      );
      sql = builtins.concatStringsSep "\n" (
        map (name: "CREATE EXTENSION IF NOT EXISTS ${quoteIdent name} CASCADE;") check.create
        ++ map (
          plugin:
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_create_logical_replication_slot('pgstrap_check', ${quoteLiteral plugin});"
        ) check.outputPlugins
      );
    in
    pkgs.runCommand "pgstrap-extensions-check"
      {
        nativeBuildInputs = [ postgres ];
        inherit conf sql;
        # Newer minor releases allow only the output plugins output_plugin_libraries lists; older ones
        # have no such setting and refuse to start with it, so the script asks the server, as setup does.
        outputPlugins = builtins.concatStringsSep ", " check.outputPlugins;
        passAsFile = [
          "conf"
          "sql"
        ];
        # The macOS sandbox forbids local networking, the server's socket included, unless allowed.
        __darwinAllowLocalNetworking = true;
      }
      ''
        export PGDATA="$TMPDIR/data" PGHOST="$TMPDIR" PGUSER=postgres PGDATABASE=postgres
        initdb --username=postgres --auth=trust --no-locale --encoding=UTF8 > /dev/null
        cat "$confPath" >> "$PGDATA/postgresql.conf"
        if [ -n "$outputPlugins" ] && allowed=$(postgres --describe-config | awk -F '\t' '$1 == "output_plugin_libraries" { print $5; found = 1 } END { exit !found }'); then
          # One string, entries separated by commas: the server splits it; the default's entries stay.
          value=$outputPlugins
          [ -z "$allowed" ] || value="$allowed, $outputPlugins"
          # conf ends without a newline.
          printf "\noutput_plugin_libraries = '%s'\n" "$value" >> "$PGDATA/postgresql.conf"
        fi
        pg_ctl --wait --log="$TMPDIR/server.log" --options="-k $TMPDIR -c listen_addresses=" start \
          || { cat "$TMPDIR/server.log"; exit 1; }
        psql --no-psqlrc -v ON_ERROR_STOP=1 --echo-all --file="$sqlPath"
        pg_ctl --wait stop
        touch "$out"
      '';

  # Every per-system output for a project: nixpkgs is imported once per system, and the server is
  # built once per system for the shell, the package and the checks.
  mkOutputs =
    {
      extensionsFile,
      nixpkgs ? defaultNixpkgs,
      systems ? defaultSystems,
      config ? { },
      overlays ? [ ],
    }:
    let
      perSystem = genAttrs systems (
        system:
        let
          pkgs = importNixpkgs {
            inherit
              system
              extensionsFile
              nixpkgs
              config
              overlays
              ;
          };
          postgres = mkPostgres { inherit pkgs extensionsFile; };
          devShell = mkDevShell { inherit pkgs extensionsFile postgres; };
        in
        {
          inherit pkgs postgres devShell;
          extensions = mkExtensionsCheck { inherit pkgs extensionsFile postgres; };
        }
      );
      each = f: builtins.mapAttrs (_: f) perSystem;
    in
    {
      devShells = each (s: {
        default = s.devShell;
      });
      packages = each (s: {
        inherit (s) postgres;
        default = s.postgres;
      });
      checks = each (s: {
        inherit (s) postgres extensions;
        devShell = s.devShell;
      });
      # nixfmt (RFC 166 style; nixfmt-rfc-style is only a warning alias in 25.11) wrapped by treefmt, so a
      # bare `nix fmt` formats every .nix file of the tree (a bare nixfmt would wait for stdin).
      formatter = each (s: s.pkgs.nixfmt-tree);
    };
in
{
  inherit
    readSpec
    importNixpkgs
    mkPostgres
    shellVariables
    shellHook
    mkDevShell
    mkExtensionsCheck
    mkOutputs
    defaultSystems
    ;
}
