/**
 * The flake for other flakes: a team's own flake, in a folder of its own, takes pgstrap as a path input and
 * gets the server with its declared extensions and the shell variables from pgstrap's `lib`, in the two forms
 * docs/nix.md shows. Evaluated by Nix against the stub nixpkgs, offline; skipped, saying why, without `nix`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { renderNixExtensions } from '../../scripts/nix/extensions-json.ts';
import { renderConsumerFlake } from '../../scripts/init/plan.ts';
import { run } from '../../scripts/server/process.ts';
import { defaultPortFor } from '../../scripts/config/default-port.ts';
import { REPO_ROOT } from '../support/project.ts';
import { copyFlake, makeNixHome, nixMissing, STUB_NIXPKGS, type NixHome } from './nix.ts';

const missing = await nixMissing();

/** nix/extensions.json as setup writes it for a project in `dir`. */
function extensionsJson(dir: string, raw: PgstrapConfig): string {
  return renderNixExtensions(resolveConfig(raw, { file: path.join(dir, 'extensions.config.ts'), projectDir: dir })).text;
}

/** The form `pgstrap init` writes when the app installs pgstrap from git (renderConsumerFlake): every output from mkOutputs. */
const WHOLE = (pgstrap: string) => renderConsumerFlake(`path:${pgstrap}`);

/** A team's flake with its own nixpkgs and its own shells, using the parts. */
const PARTS = (pgstrap: string) => `{
  inputs.nixpkgs.url = "path:${STUB_NIXPKGS}";
  inputs.pgstrap.url = "path:${pgstrap}";
  inputs.pgstrap.inputs.nixpkgs.follows = "nixpkgs";
  outputs = { self, nixpkgs, pgstrap }:
    let
      system = "x86_64-linux";
      extensionsFile = ./nix/extensions.json;
      pkgs = pgstrap.lib.importNixpkgs { inherit nixpkgs system extensionsFile; };
    in {
      packages.\${system}.postgres = pgstrap.lib.mkPostgres { inherit pkgs extensionsFile; };
      devShells.\${system} = {
        default = pgstrap.lib.mkDevShell { inherit pkgs extensionsFile; packages = [ pkgs.nixfmt-tree ]; };
        own = pkgs.mkShell { packages = [ pkgs.nodejs_22 ]; shellHook = pgstrap.lib.shellHook { inherit pkgs extensionsFile; }; };
      };
    };
}
`;

describe.skipIf(missing !== undefined)(`a consumer flake with pgstrap as an input${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let home: NixHome;
  let pgstrap: string;
  beforeAll(() => {
    home = makeNixHome();
    // pgstrap's own nix/extensions.json must not leak into the consumer: give it a different one.
    pgstrap = copyFlake(home.dir, extensionsJson('/elsewhere', { extensions: ['pgmq'] }));
  });
  afterAll(() => home?.remove());

  /** A consumer project folder with `flake` as flake.nix and its own nix/extensions.json. */
  function consumer(flake: string, raw: PgstrapConfig): string {
    const dir = fs.mkdtempSync(path.join(home.dir, 'app-'));
    fs.writeFileSync(path.join(dir, 'flake.nix'), flake);
    fs.mkdirSync(path.join(dir, 'nix'));
    fs.writeFileSync(path.join(dir, 'nix/extensions.json'), extensionsJson(dir, raw));
    return dir;
  }

  /** `nix eval --json` of the consumer's flake; pgstrap's nixpkgs is the stub (by override or by follows). */
  async function evalConsumer<T>(dir: string, attr: string, apply: string, overrides: string[]): Promise<T> {
    const result = await home.nix(['eval', '--json', `path:${dir}#${attr}`, '--apply', apply, ...overrides, '--no-write-lock-file']);
    if (result.exitCode !== 0) throw new Error(`nix eval ${attr} failed:\n${String(result.stderr)}`);
    return JSON.parse(String(result.stdout)) as T;
  }
  const viaOverride = ['--override-input', 'pgstrap/nixpkgs', `path:${STUB_NIXPKGS}`];

  const SHELL = `s: let a = s.shellArgs; in { asked = (builtins.head a.packages).askedFor; packages = map (p: p.name) a.packages; setsPort = a ? PGPORT; inherit (a) PGDATABASE shellHook; unfree = s.nixpkgsConfig.allowUnfreePredicate { pname = "postgresql-lantern"; }; }`;
  interface Shell {
    asked: string[];
    packages: string[];
    /** The port is one machine's: the hook reads <stateDir>/port or derives it; the shell never fixes it. */
    setsPort: boolean;
    PGDATABASE: string;
    shellHook: string;
    unfree: boolean;
  }

  it("mkOutputs: every output on every system, from the consumer's nix/extensions.json", async () => {
    const dir = consumer(WHOLE(pgstrap), { port: 6101, databases: ['shop'], extensions: ['vector', 'lantern', 'pgcrypto'] });
    const shells = await evalConsumer<Record<string, Shell>>(dir, 'devShells', `ds: builtins.mapAttrs (_: d: (${SHELL}) d.default) ds`, viaOverride);
    expect(Object.keys(shells).sort()).toEqual(['aarch64-darwin', 'aarch64-linux', 'x86_64-darwin', 'x86_64-linux']);
    for (const shell of Object.values(shells)) {
      expect(shell).toMatchObject({ asked: ['lantern', 'pgvector'], packages: ['postgresql-and-plugins-17.0', 'nodejs-22.0.0'], setsPort: false, PGDATABASE: 'shop', unfree: true });
    }
    expect(await evalConsumer(dir, 'packages.x86_64-linux', 'builtins.attrNames', viaOverride)).toEqual(['default', 'postgres']);
    expect(await evalConsumer(dir, 'checks.x86_64-linux', 'builtins.attrNames', viaOverride)).toEqual(['devShell', 'extensions', 'postgres']);
    const check = await home.nix(['flake', 'check', '--no-build', `path:${dir}`, ...viaOverride, '--no-write-lock-file']);
    expect(check.exitCode, String(check.stderr)).toBe(0);
  });

  it('the parts, in a flake with its own nixpkgs (follows): the server, a dev shell with more tools, a hook for any mkShell', async () => {
    const dir = consumer(PARTS(pgstrap), { port: 6102, extensions: ['timescaledb'] });
    const shell = await evalConsumer<Shell>(dir, 'devShells.x86_64-linux.default', SHELL, []);
    expect(shell).toMatchObject({ asked: ['timescaledb'], packages: ['postgresql-and-plugins-17.0', 'nodejs-22.0.0', 'nixfmt-tree-stub'], setsPort: false });
    const postgres = await evalConsumer<string[]>(dir, 'packages.x86_64-linux.postgres', 'p: p.askedFor', []);
    expect(postgres).toEqual(['timescaledb']);

    // The hook alone carries every variable: run it as nix develop would, in a subfolder of the project.
    const hook = await evalConsumer<string>(dir, 'devShells.x86_64-linux.own', 's: s.shellArgs.shellHook', []);
    fs.mkdirSync(path.join(dir, 'src'));
    const result = await run('bash', ['-c', `${hook}\nenv`], { cwd: path.join(dir, 'src'), env: { PATH: process.env.PATH, HOME: dir }, reject: false, timeoutMs: 30_000 });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const env = Object.fromEntries(String(result.stdout).split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const port = String(defaultPortFor(fs.realpathSync(dir)));
    expect(env).toMatchObject({
      PGPORT: port,
      PGHOST: path.join(dir, '.pgstrap/run'),
      PGDATA: path.join(dir, '.pgstrap/data'),
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/app`,
      PGSTRAP_SHELL_SUMMARY: 'PostgreSQL 17.0 (timescaledb), Node.js 22.0.0',
    });
    expect(env.PG_BIN).toMatch(/-postgresql-and-plugins-17\.0\/bin$/);
  });

  it("importNixpkgs keeps the consumer's own allowUnfreePredicate beside the file's list", async () => {
    const flake = `{
  inputs.nixpkgs.url = "path:${STUB_NIXPKGS}";
  inputs.pgstrap.url = "path:${pgstrap}";
  inputs.pgstrap.inputs.nixpkgs.follows = "nixpkgs";
  outputs = { self, nixpkgs, pgstrap }: {
    allowed = let pkgs = pgstrap.lib.importNixpkgs {
      inherit nixpkgs; system = "x86_64-linux"; extensionsFile = ./nix/extensions.json;
      config.allowUnfreePredicate = pkg: pkg.pname == "timescaledb_toolkit";
    }; in map pkgs.config.allowUnfreePredicate [ { pname = "postgresql-lantern"; } { pname = "timescaledb_toolkit"; } { pname = "timescaledb"; } ];
  };
}
`;
    const dir = consumer(flake, { extensions: ['lantern'] });
    expect(await evalConsumer(dir, 'allowed', 'x: x', [])).toEqual([true, true, false]);
  });

  it('evaluates the two snippets docs/nix.md shows, with pgstrap and nixpkgs as local paths', async () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs/nix.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## In your own flake'), doc.indexOf('## Flake outputs'));
    const snippets = [...section.matchAll(/```nix\n([\s\S]*?)```/g)].map((m) =>
      m[1]!.replaceAll('git+https://example.com/your-org/pgstrap', `path:${pgstrap}`).replaceAll('github:NixOS/nixpkgs/nixos-25.11', `path:${STUB_NIXPKGS}`),
    );
    expect(snippets).toHaveLength(2);
    const whole = consumer(snippets[0]!, { port: 6103, extensions: ['vector'] });
    expect(await evalConsumer(whole, 'devShells.aarch64-darwin.default', 's: s.shellArgs ? PGPORT', viaOverride)).toBe(false);
    const parts = consumer(snippets[1]!, { port: 6104, extensions: ['vector'] });
    const shells = await evalConsumer<Record<string, string[]>>(parts, 'devShells.x86_64-linux', 'ds: builtins.mapAttrs (_: s: map (p: p.name) s.shellArgs.packages) ds', []);
    expect(shells).toEqual({ default: ['postgresql-and-plugins-17.0', 'nodejs-22.0.0', 'go-stub'], mine: ['postgresql-and-plugins-17.0', 'nodejs-22.0.0'] });
    expect(await evalConsumer(parts, 'packages.x86_64-linux.postgres', 'p: p.askedFor', [])).toEqual(['pgvector']);
  });

  it("refuses a consumer's unfree extension that its nix/extensions.json does not list", async () => {
    const dir = consumer(WHOLE(pgstrap), { extensions: ['lantern'] });
    const text = JSON.parse(fs.readFileSync(path.join(dir, 'nix/extensions.json'), 'utf8')) as { unfree: string[] };
    fs.writeFileSync(path.join(dir, 'nix/extensions.json'), JSON.stringify({ ...text, unfree: [] }));
    await expect(evalConsumer(dir, 'packages.x86_64-linux.postgres', 'p: p.name', viaOverride)).rejects.toThrow(/refusing unfree postgresql-lantern/);
  });
});
