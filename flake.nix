{
  description = "pgstrap: a project-local PostgreSQL 17 with the extensions extensions.config.ts declares";

  # One input, pinned in flake.lock (nixos-25.11); no flake-utils.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      # Every function the outputs are made of (nix/lib.nix), with this flake's nixpkgs as the default.
      lib = import ./nix/lib.nix { inherit nixpkgs; };

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
    lib.mkOutputs { extensionsFile = ./nix/extensions.json; }
    // {
      # For other flakes (docs/nix.md): `pgstrap.lib.mkOutputs { extensionsFile = ./nix/extensions.json; }`
      # gives a project every output above; the parts compose into a flake's own shell.
      inherit lib;

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
