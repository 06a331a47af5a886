/**
 * flake.nix, evaluated for real by Nix against a stub nixpkgs that records what was asked of
 * postgresql_17.withPackages; flake.lock's structure. Needs `nix` (Debian's nix-bin, 2.8 or later):
 * skipped, with the reason, without it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { CATALOGUE } from '../../scripts/extensions/catalogue.ts';
import { renderNixExtensions, type NixExtensionsSpec } from '../../scripts/nix/extensions-json.ts';
import { loadConfig } from '../../scripts/config/load.ts';
import { describeConfig } from '../../scripts/server/binaries.ts';
import { run } from '../../scripts/server/process.ts';
import { getServerUser } from '../../scripts/server/server-user.ts';
import { debianPostgres, freePort, REPO_ROOT } from '../support/project.ts';
import { copyFlake, evalJson, makeNixHome, nixMissing, STUB_NIXPKGS, stubInputs, type NixHome } from './nix.ts';

const SYSTEMS = ['x86_64-linux', 'aarch64-linux', 'x86_64-darwin', 'aarch64-darwin'];

/** The spec setup would write for `raw`, with the real extension catalogue. */
function specFor(raw: PgstrapConfig): NixExtensionsSpec {
  return renderNixExtensions(resolveConfig(raw, { file: '/p/extensions.config.ts', projectDir: '/p' })).spec;
}

/** What the dev shell of `system` asked for and exports. */
interface ShellView {
  asked: string[];
  packages: string[];
  PG_BIN: string;
  postgresOut: string;
  /** Whether the shell sets PGPORT itself: it must not (the hook reads <stateDir>/port; the port is one machine's). */
  setsPort: boolean;
  PGUSER: string;
  PGDATABASE: string;
  PGSTRAP_STATE_DIR: string;
  PGSTRAP_DATA_DIR: string;
  PGSTRAP_SOCKET_DIR: string;
  summary: string;
  shellHook: string;
  blanketUnfree: boolean;
  unfreeAllowed: Record<string, boolean>;
}
const SHELL_VIEW = `s: let a = s.shellArgs; pg = builtins.head a.packages; in {
  asked = pg.askedFor;
  packages = map (p: p.name) a.packages;
  postgresOut = pg.outPath;
  setsPort = a ? PGPORT;
  inherit (a) PG_BIN PGUSER PGDATABASE PGSTRAP_STATE_DIR PGSTRAP_DATA_DIR PGSTRAP_SOCKET_DIR shellHook;
  summary = a.PGSTRAP_SHELL_SUMMARY;
  blanketUnfree = s.nixpkgsConfig ? allowUnfree;
  unfreeAllowed = builtins.listToAttrs (map (n: { name = n; value = s.nixpkgsConfig.allowUnfreePredicate { pname = n; }; })
    [ "timescaledb" "timescaledb_toolkit" "pgvector" "postgresql" "postgresql-lantern" "lantern" ]);
}`;

const lockPath = path.join(REPO_ROOT, 'flake.lock');

describe('flake.lock', () => {
  const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as {
    version: number;
    root: string;
    nodes: Record<string, { inputs?: Record<string, string>; locked?: Record<string, unknown>; original?: Record<string, unknown> }>;
  };

  it('is a version 7 lock with a root node and one nixpkgs node (no flake-utils)', () => {
    expect(lock.version).toBe(7);
    expect(lock.root).toBe('root');
    expect(Object.keys(lock.nodes).sort()).toEqual(['nixpkgs', 'root']);
    expect(lock.nodes.root).toEqual({ inputs: { nixpkgs: 'nixpkgs' } });
  });

  it('pins nixpkgs on GitHub to the nixos-25.11 revision with the hash Nix computed', () => {
    expect(lock.nodes.nixpkgs!.locked).toEqual({
      type: 'github',
      owner: 'NixOS',
      repo: 'nixpkgs',
      rev: '8fd9daa3db09ced9700431c5b7ad0e8ba199b575',
      narHash: 'sha256-Ti+ZBvW6yrWWAg2szExVTwCd4qOJ3KlVr1tFHfyfi8Q=',
      lastModified: 1778430510,
    });
    expect(lock.nodes.nixpkgs!.original).toEqual({ type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-25.11' });
  });

  it('agrees with the input flake.nix declares', () => {
    expect(fs.readFileSync(path.join(REPO_ROOT, 'flake.nix'), 'utf8')).toContain('inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";');
  });
});

const missing = await nixMissing();
const debian = await debianPostgres(15);
const debianBin = 'skip' in debian ? '' : debian.binDir;
const debianSkip = 'skip' in debian ? debian.skip : fs.existsSync(path.join(debianBin, '..', 'lib', 'wal2json.so')) ? undefined : 'postgresql-15-wal2json is not installed (.ci/run installs it)';
const debianKnowsAllowList = debianSkip === undefined && (await describeConfig(debianBin)).split('\n').some((l) => l.startsWith('output_plugin_libraries\t'));

describe.skipIf(missing !== undefined)(`flake.nix evaluated by Nix against a stub nixpkgs${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let home: NixHome;
  beforeAll(() => {
    home = makeNixHome();
  });
  afterAll(() => home?.remove());

  it('parses (nix-instantiate --parse), and so do nix/ files and the stub', async () => {
    for (const file of ['flake.nix', 'nix/lib.nix', 'test/nix/fixtures/nixpkgs-stub/flake.nix', 'test/nix/fixtures/nixpkgs-stub/default.nix']) {
      const result = await home.program('nix-instantiate', ['--parse', path.join(REPO_ROOT, file)]);
      expect(result.exitCode, `${file}: ${String(result.stderr)}`).toBe(0);
    }
  });

  const cases: Array<{ title: string; config: PgstrapConfig; attrs: string[] }> = [
    { title: 'the shipped extensions', config: { extensions: ['pg_uuidv7', 'vector', 'pgmq'] }, attrs: ['pg_uuidv7', 'pgmq', 'pgvector'] },
    { title: 'contrib only: nothing to add', config: { extensions: ['pgcrypto', 'pg_trgm'] }, attrs: [] },
    { title: 'no extensions', config: {}, attrs: [] },
    {
      title: 'h3_postgis brings its dependency postgis; an unavailable and an unknown one are left out',
      config: { extensions: ['h3_postgis', 'pg_cron', 'vectors', { name: 'our_own', required: false }] },
      attrs: ['h3-pg', 'pg_cron', 'postgis'],
    },
    { title: 'vchord brings pgvector', config: { extensions: ['vchord'] }, attrs: ['pgvector', 'vectorchord'] },
    { title: 'an unfree one, allowed by name', config: { extensions: ['timescaledb', 'vector', 'wal2json'] }, attrs: ['pgvector', 'timescaledb', 'wal2json'] },
    // lantern's package is postgresql-lantern: allowed by the pname of the listed attribute, not the attribute.
    { title: 'an unfree one whose package name is not its attribute', config: { extensions: ['lantern'] }, attrs: ['lantern'] },
  ];

  for (const { title, config, attrs } of cases) {
    it(`asks withPackages for exactly the declared extensions: ${title}`, async () => {
      const spec = specFor(config);
      expect(spec.extensions).toEqual(attrs);
      const flake = copyFlake(home.dir, spec);
      const view = await evalJson<ShellView>(home, flake, 'devShells.x86_64-linux.default', SHELL_VIEW);
      expect(view.asked).toEqual(attrs);
      expect(view.packages).toEqual(['postgresql-and-plugins-17.0', 'nodejs-22.0.0']);
      // The system engine takes its binaries from PG_BIN: the bin folder of the very server built above.
      expect(view.PG_BIN).toBe(`${view.postgresOut}/bin`);
      expect(view.summary).toBe(`PostgreSQL 17.0 (${attrs.length > 0 ? attrs.join(', ') : 'contrib only'}), Node.js 22.0.0`);
      expect(view.blanketUnfree).toBe(false);
      expect(view.unfreeAllowed).toEqual({
        timescaledb: spec.unfree.includes('timescaledb'),
        timescaledb_toolkit: false,
        pgvector: false,
        postgresql: false,
        'postgresql-lantern': spec.unfree.includes('lantern'),
        // The attribute name is never what allowUnfreePredicate is given.
        lantern: false,
      });
    });
  }

  it('exports what npm run env does, from the config', async () => {
    const spec = specFor({ port: 6543, superuser: 'admin', databases: ['shop', 'shop_test'], stateDir: 'var/pg', socketDir: '/tmp/pgsock' });
    const view = await evalJson<ShellView>(home, copyFlake(home.dir, spec), 'devShells.aarch64-darwin.default', SHELL_VIEW);
    expect(view).toMatchObject({
      setsPort: false,
      PGUSER: 'admin',
      PGDATABASE: 'shop',
      PGSTRAP_STATE_DIR: 'var/pg',
      PGSTRAP_DATA_DIR: 'var/pg/data',
      PGSTRAP_SOCKET_DIR: '/tmp/pgsock',
    });
    expect(view.shellHook).toMatch(/\nsource \/.*-shell-hook\.sh\n$/);
    expect(view.shellHook).not.toContain('PGPORT=');
    expect(view.shellHook).toContain("export PGUSER='admin'\n");
  });

  it('builds the major the config names', async () => {
    const spec = specFor({ postgresMajor: 18, extensions: ['vector'] });
    expect(spec.postgresql).toBe('postgresql_18');
    const view = await evalJson<ShellView>(home, copyFlake(home.dir, spec), 'devShells.x86_64-linux.default', SHELL_VIEW);
    expect(view.packages[0]).toBe('postgresql-and-plugins-18.0');
    expect(view.setsPort).toBe(false);
  });

  it('refuses an unfree extension the json does not list as unfree (no blanket allowUnfree)', async () => {
    const spec = { ...specFor({ extensions: ['timescaledb'] }), unfree: [] };
    const flake = copyFlake(home.dir, spec);
    await expect(evalJson(home, flake, 'packages.x86_64-linux.postgres.name')).rejects.toThrow(/refusing unfree timescaledb/);
  });

  it('refuses lantern when the json does not list it as unfree', async () => {
    const spec = { ...specFor({ extensions: ['lantern'] }), unfree: [] };
    await expect(evalJson(home, copyFlake(home.dir, spec), 'packages.x86_64-linux.postgres.name')).rejects.toThrow(/refusing unfree postgresql-lantern/);
  });

  it('imports nixpkgs once per system, for every output together', async () => {
    const flake = copyFlake(home.dir, specFor({ extensions: ['vector', 'timescaledb'] }));
    const result = await home.nix(['flake', 'check', '--no-build', `path:${flake}`, ...stubInputs()]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const imports = [...String(result.stderr).matchAll(/stub nixpkgs: imported for (\S+)/g)].map((m) => m[1]!);
    expect(imports.sort()).toEqual([...SYSTEMS].sort());
  });

  it('lets the extensions check use local networking on macOS (the server\'s socket), on every system', async () => {
    const flake = copyFlake(home.dir, specFor({ extensions: ['vector'] }));
    const allowed = await evalJson<Record<string, boolean>>(home, flake, 'checks', 'cs: builtins.mapAttrs (_: c: c.extensions.runCommandEnv.__darwinAllowLocalNetworking or false) cs');
    expect(allowed).toEqual(Object.fromEntries(SYSTEMS.map((system) => [system, true])));
  });

  it('pgvecto.rs: setup leaves it out and says it is broken in nixos-25.11, before Nix refuses it', async () => {
    const render = renderNixExtensions(resolveConfig({ extensions: [{ name: 'vectors', required: false }] }, { file: '/p/extensions.config.ts', projectDir: '/p' }));
    expect(render.spec.extensions).toEqual([]);
    expect(render.problems).toEqual([expect.objectContaining({ name: 'vectors', kind: 'unavailable', message: expect.stringMatching(/marked broken on PostgreSQL 17 in nixos-25\.11.*declare vchord instead/) })]);
    // What Nix would say, had the attribute reached the flake: the stub marks it broken as nixos-25.11 does.
    const forced = { ...render.spec, extensions: ['pgvecto-rs'] };
    await expect(evalJson(home, copyFlake(home.dir, forced), 'packages.x86_64-linux.postgres.name')).rejects.toThrow(/refusing broken pgvecto-rs/);
  });

  it('names the files and libraries nixpkgs installs (pgx_ulid: SQL and control files as ulid, the library as pgx_ulid)', () => {
    const stub = JSON.parse(fs.readFileSync(path.join(STUB_NIXPKGS, 'attrs.json'), 'utf8')) as { installs: Record<string, { extensions: string[]; libraries: string[] }> };
    const entries = CATALOGUE.filter((e) => e.nixAttr !== undefined && stub.installs[e.nixAttr] !== undefined);
    expect(entries.map((e) => e.name).sort()).toEqual(['lantern', 'pgx_ulid', 'ulid', 'vectors']);
    for (const entry of entries) {
      const installs = stub.installs[entry.nixAttr!]!;
      expect(installs.extensions, entry.name).toContain(entry.nixInstallsAs ?? entry.name);
      if (entry.preload !== undefined) expect(installs.libraries, entry.name).toContain(entry.preload);
      // A note that names a preload library names one the package installs.
      for (const [, library] of (entry.note ?? '').matchAll(/shared_preload_libraries = '([^']+)'/g)) expect(installs.libraries, entry.name).toContain(library);
    }
    expect(CATALOGUE.find((e) => e.name === 'ulid')?.note).toContain("shared_preload_libraries = 'pgx_ulid'");
  });

  it('exposes packages.postgres (= default), checks, a formatter and a template on every system', async () => {
    const spec = specFor({ extensions: ['timescaledb', 'vector', 'pg_cron', 'wal2json', 'pgcrypto', 'pgx_ulid'] });
    const flake = copyFlake(home.dir, spec);
    const packages = await evalJson<Record<string, unknown>>(
      home,
      flake,
      'packages',
      'ps: builtins.mapAttrs (_: p: { postgres = p.postgres.name; same = p.default.drvPath == p.postgres.drvPath; }) ps',
    );
    const checks = await evalJson<Record<string, unknown>>(
      home,
      flake,
      'checks',
      'cs: builtins.mapAttrs (_: c: { names = builtins.attrNames c; inherit (c.extensions.runCommandEnv) conf sql; }) cs',
    );
    const formatter = await evalJson<Record<string, string>>(home, flake, 'formatter', 'fs: builtins.mapAttrs (_: f: f.name) fs');
    const template = await evalJson<string>(home, flake, 'templates.default.description');
    expect(template).toMatch(/^pgstrap: /);
    for (const outputs of [packages, checks, formatter]) expect(Object.keys(outputs).sort()).toEqual([...SYSTEMS].sort());
    for (const system of SYSTEMS) {
      expect(packages[system]).toEqual({ postgres: 'postgresql-and-plugins-17.0', same: true });
      expect(formatter[system]).toBe('nixfmt-tree-stub');
      expect(checks[system]).toEqual({
        names: ['devShell', 'extensions', 'postgres'],
        conf: "shared_preload_libraries = 'pg_cron,timescaledb'\nwal_level = 'logical'",
        sql: [
          'CREATE EXTENSION IF NOT EXISTS "pg_cron" CASCADE;',
          'CREATE EXTENSION IF NOT EXISTS "pgcrypto" CASCADE;',
          'CREATE EXTENSION IF NOT EXISTS "timescaledb" CASCADE;',
          // nixpkgs' pgx_ulid installs the extension as ulid.
          'CREATE EXTENSION IF NOT EXISTS "ulid" CASCADE;',
          'CREATE EXTENSION IF NOT EXISTS "vector" CASCADE;',
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_create_logical_replication_slot('pgstrap_check', 'wal2json');",
        ].join('\n'),
      });
    }
  });

  it.skipIf(debianSkip !== undefined)(
    `runs the extensions check's script against Debian PostgreSQL 15 with wal2json: the slot works as setup makes it work${debianSkip ? ` (skipped: ${debianSkip})` : ''}`,
    async () => {
      const spec = specFor({ postgresMajor: 15, extensions: ['wal2json', 'pgcrypto'] });
      const check = await evalJson<{ conf: string; sql: string; outputPlugins: string; script: string }>(
        home,
        copyFlake(home.dir, spec),
        'checks.x86_64-linux.extensions',
        'c: { inherit (c.runCommandEnv) conf sql outputPlugins; script = c.runCommandScript; }',
      );
      expect(check.outputPlugins).toBe('wal2json');
      // The sandbox's environment: passAsFile's files, $TMPDIR and $out; the server refuses root, so run it as its user.
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-flake-check-'));
      try {
        const user = (await getServerUser(undefined))!;
        fs.chmodSync(work, 0o755);
        fs.writeFileSync(path.join(work, 'conf'), check.conf);
        fs.writeFileSync(path.join(work, 'sql'), check.sql);
        const tmp = path.join(work, 'tmp');
        fs.mkdirSync(tmp);
        if (user) fs.chownSync(tmp, user.uid, user.gid);
        const result = await run('bash', ['-euo', 'pipefail', '-c', check.script], {
          as: user,
          env: {
            PATH: `${debianBin}:${process.env.PATH}`,
            TMPDIR: tmp,
            out: path.join(tmp, 'out'),
            confPath: path.join(work, 'conf'),
            sqlPath: path.join(work, 'sql'),
            outputPlugins: check.outputPlugins,
            PGPORT: String(await freePort()),
          },
          reject: false,
          timeoutMs: 120_000,
        });
        expect(result.exitCode, `${result.stdout}\n${result.stderr}`.slice(-3000)).toBe(0);
        expect(result.stdout).toContain("pg_create_logical_replication_slot('pgstrap_check', 'wal2json')");
        expect(fs.existsSync(path.join(tmp, 'out'))).toBe(true);
        const conf = fs.readFileSync(path.join(tmp, 'data', 'postgresql.conf'), 'utf8');
        if (debianKnowsAllowList) expect(conf).toContain("\noutput_plugin_libraries = 'pgoutput, test_decoding, wal2json'\n");
        else expect(conf).not.toContain('output_plugin_libraries =');
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    },
  );

  it('passes `nix flake check --no-build` (every output of every system evaluates)', async () => {
    const flake = copyFlake(home.dir, specFor({ extensions: ['pg_uuidv7', 'vector', 'pgmq', 'timescaledb'] }));
    const result = await home.nix(['flake', 'check', '--no-build', `path:${flake}`, ...stubInputs()]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
  });

  it('fails to evaluate an attribute nixpkgs lacks (why the orchestrator reports such extensions first)', async () => {
    const flake = copyFlake(home.dir, { ...specFor({}), extensions: ['no_such_extension'] });
    await expect(evalJson(home, flake, 'packages.x86_64-linux.postgres.name')).rejects.toThrow(/no_such_extension/);
  });

  it('`nix flake init -t` copies the orchestrator, its benchmarks and its Nix files, not this repository\'s tests', async () => {
    const flake = copyFlake(home.dir, specFor({ extensions: ['vector'] }), {
      'scripts/cli.ts': '// cli\n',
      'extensions.config.ts': 'export default {};\n',
      'package.json': '{}\n',
      'test/some.test.ts': '// a test\n',
      'bench/warm.ts': '// bench\n',
      '.ci/run': '# ci\n',
      'README.md': '# readme\n',
    });
    const target = fs.mkdtempSync(path.join(home.dir, 'init-'));
    const result = await home.nix(['flake', 'init', '-t', `path:${flake}`], { cwd: target });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const files = fs.readdirSync(target, { recursive: true }).map(String).sort();
    expect(files).toEqual(
      ['.envrc', 'bench', 'bench/warm.ts', 'extensions.config.ts', 'flake.lock', 'flake.nix', 'nix', 'nix/extensions.json', 'nix/lib.nix', 'nix/shell-hook.sh', 'package.json', 'scripts', 'scripts/cli.ts'].sort(),
    );
  });

  it('knows every attribute the catalogue names (the stub lists nixos-25.11 postgresql_17.pkgs names)', () => {
    const available = (JSON.parse(fs.readFileSync(path.join(STUB_NIXPKGS, 'attrs.json'), 'utf8')) as { available: string[] }).available;
    const attrs = CATALOGUE.filter((e) => e.unavailable === undefined && !e.contrib).map((e) => e.nixAttr);
    expect(attrs.length).toBeGreaterThan(0);
    expect(attrs.filter((a) => a === undefined || !available.includes(a))).toEqual([]);
  });

  it('builds what the committed nix/extensions.json says for the shipped config, with the real catalogue', async () => {
    const config = await loadConfig({ cwd: REPO_ROOT });
    const { spec } = renderNixExtensions(config);
    const available = (JSON.parse(fs.readFileSync(path.join(STUB_NIXPKGS, 'attrs.json'), 'utf8')) as { available: string[] }).available;
    // The stub lists nixos-25.11's attribute names; every attribute the catalogue gives must be one of them.
    for (const attr of spec.extensions) expect(available, `${attr} is not a postgresql_17.pkgs attribute in the stub`).toContain(attr);
    const view = await evalJson<ShellView>(home, copyFlake(home.dir, spec), 'devShells.x86_64-linux.default', SHELL_VIEW);
    expect(view.asked).toEqual(spec.extensions);
  });
});
