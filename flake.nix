{
  description = "pgstrap: a project-local PostgreSQL 17 with the extensions extensions.config.ts declares";

  # One input, pinned in flake.lock (nixos-25.11); no flake-utils.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      # Written by `npm run setup` from extensions.config.ts and pgstrap's extension catalogue, so the
      # extension list is typed once and this flake reads data, never TypeScript.
      spec = builtins.fromJSON (builtins.readFile ./nix/extensions.json);

      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f (pkgsFor system));

      pkgsFor =
        system:
        import nixpkgs {
          inherit system;
          # Unfree extensions (timescaledb's TSL licence) are allowed one by one, by the names the
          # orchestrator lists; everything else keeps nixpkgs' default refusal.
          config.allowUnfreePredicate = pkg: builtins.elem (nixpkgs.lib.getName pkg) spec.unfree;
        };

      # The server with every declared extension; `ps` is postgresql_<major>.pkgs. An attribute that
      # nixpkgs lacks for this major fails here, but the orchestrator reports it at `npm run setup` first.
      postgresFor = pkgs: pkgs.${spec.postgresql}.withPackages (ps: map (name: ps.${name}) spec.extensions);

      devShellFor =
        pkgs:
        let
          postgres = postgresFor pkgs;
          # Node 22 LTS satisfies package.json's engines (>= 20.5).
          nodejs = pkgs.nodejs_22;
          extensionList = if spec.extensions == [ ] then "contrib only" else builtins.concatStringsSep ", " spec.extensions;
        in
        pkgs.mkShell {
          name = "pgstrap";
          packages = [
            postgres
            nodejs
          ];
          # The orchestrator's system engine takes initdb, pg_ctl and postgres from PG_BIN, so
          # `npm run setup` uses this server instead of the embedded one.
          PG_BIN = "${postgres}/bin";
          # Fixed values, the same as `npm run env`'s; nix/shell-hook.sh adds the ones that need the
          # project's absolute path (PGHOST, PGDATA, PGPASSFILE, DATABASE_URL).
          PGPORT = toString spec.shell.port;
          PGUSER = spec.shell.user;
          PGDATABASE = spec.shell.database;
          PGSTRAP_STATE_DIR = spec.shell.stateDir;
          PGSTRAP_DATA_DIR = spec.shell.dataDir;
          PGSTRAP_SOCKET_DIR = spec.shell.socketDir;
          PGSTRAP_SHELL_SUMMARY = "PostgreSQL ${postgres.version} (${extensionList}), Node.js ${nodejs.version}";
          shellHook = ''
            source ${./nix/shell-hook.sh}
          '';
        };

      # Boots the built server in the sandbox and creates every declared extension: what
      # `nix flake check` proves beyond evaluation.
      extensionsCheckFor =
        pkgs:
        let
          postgres = postgresFor pkgs;
          check = spec.check;
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

      # What `nix flake init -t` copies: the orchestrator (scripts/, with the bench it runs) and its Nix
      # files, not this repository's own tests or CI.
      templateFiles = [
        ".envrc"
        ".gitignore"
        # The speed benchmarks package.json's bench:* scripts run (bench:warm, bench:round-trips).
        "bench"
        "extensions.config.ts"
        "flake.lock"
        "flake.nix"
        "migrations"
        "nix"
        "package-lock.json"
        "package.json"
        "scripts"
        "tsconfig.json"
      ];
      template = builtins.path {
        name = "pgstrap-template";
        path = ./.;
        filter =
          path: _type:
          let
            root = toString ./.;
            full = toString path;
            relative = builtins.substring (builtins.stringLength root + 1) (builtins.stringLength full) full;
          in
          builtins.elem (builtins.head (builtins.split "/" relative)) templateFiles;
      };
    in
    {
      devShells = forAllSystems (pkgs: {
        default = devShellFor pkgs;
      });

      packages = forAllSystems (pkgs: rec {
        postgres = postgresFor pkgs;
        default = postgres;
      });

      checks = forAllSystems (pkgs: {
        postgres = postgresFor pkgs;
        extensions = extensionsCheckFor pkgs;
        devShell = devShellFor pkgs;
      });

      # nixfmt (RFC 166 style; nixfmt-rfc-style is only a warning alias in 25.11) wrapped by treefmt, so a
      # bare `nix fmt` formats every .nix file of the tree (a bare nixfmt would wait for stdin).
      formatter = forAllSystems (pkgs: pkgs.nixfmt-tree);

      templates.default = {
        path = template;
        description = "pgstrap: a project-local PostgreSQL 17 with declared extensions, uuidv7() and migrations";
        welcomeText = ''
          # pgstrap

          Declare your databases and extensions in `extensions.config.ts`, then run
          `npm ci && npm run setup` (it writes `nix/extensions.json` and starts PostgreSQL), and
          `nix develop` or `direnv allow` for PostgreSQL 17 with every declared extension.
        '';
      };
    };
}
