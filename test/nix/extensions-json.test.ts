/**
 * nix/extensions.json: the pure renderer, drift detection, the setup step that refreshes it, and the
 * guard that the committed file matches extensions.config.ts. No Nix needed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PgstrapConfig, ResolvedConfig } from '../../scripts/config/types.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { findExtension, type CatalogueEntry } from '../../scripts/extensions/catalogue.ts';
import { isPgstrapError, type PgstrapError } from '../../scripts/shared/errors.ts';
import { compareNixExtensions, renderNixExtensions, type CatalogueLookup } from '../../scripts/nix/extensions-json.ts';
import { loadConfig } from '../../scripts/config/load.ts';
import { SETUP_STEPS } from '../../scripts/pipeline/steps.ts';
import { readNixExtensionsCheck, nixExtensionsStep, assertNixExtensionsInSync } from '../../scripts/nix/step.ts';
import type { RunContext } from '../../scripts/pipeline/step.ts';
import type { Target } from '../../scripts/server/target.ts';
import { REPO_ROOT } from '../support/project.ts';

// Test entries start from a plain catalogue entry (citext: nothing to preload, no settings), so these
// tests pin the renderer's rules, not the catalogue's contents.
const PLAIN = findExtension('citext')!;
function entry(name: string, fields: Partial<CatalogueEntry>): CatalogueEntry {
  return { ...PLAIN, name, purpose: `test entry for ${name}`, contrib: false, ...fields };
}
const ENTRIES = [
  entry('vector', { nixAttr: 'pgvector' }),
  entry('pgmq', { nixAttr: 'pgmq' }),
  entry('timescaledb', { nixAttr: 'timescaledb', preload: 'timescaledb', unfree: true }),
  entry('wal2json', { nixAttr: 'wal2json', kind: 'output-plugin', settings: { wal_level: 'logical' } }),
  entry('vectors', { nixAttr: 'pgvecto-rs', unavailable: 'broken on PostgreSQL 17, removed from nixpkgs; use VectorChord (vchord)' }),
  entry('citext', { contrib: true }),
  entry('vchord', { nixAttr: 'vectorchord', requires: ['vector'] }),
  entry('ulid', { nixAttr: 'pgx_ulid' }),
  entry('pgx_ulid', { nixAttr: 'pgx_ulid', nixInstallsAs: 'ulid' }),
  entry('needs_missing', { nixAttr: 'needs_missing', requires: ['not_catalogued'] }),
];
const lookup: CatalogueLookup = (name) => ENTRIES.find((e) => e.name === name);

function config(raw: PgstrapConfig, projectDir = '/p'): ResolvedConfig {
  return resolveConfig(raw, { file: path.join(projectDir, 'extensions.config.ts'), projectDir });
}

describe('renderNixExtensions', () => {
  it('lists the sorted nixpkgs attributes of declared non-contrib extensions, with the unfree ones', () => {
    const { spec, problems, unfree } = renderNixExtensions(config({ extensions: ['vector', 'timescaledb', 'citext', 'pgmq', 'wal2json'] }), lookup);
    expect(spec.postgresql).toBe('postgresql_17');
    expect(spec.extensions).toEqual(['pgmq', 'pgvector', 'timescaledb', 'wal2json']);
    expect(spec.unfree).toEqual(['timescaledb']);
    expect(unfree).toEqual(['timescaledb']);
    expect(problems).toEqual([]);
    expect(spec.check).toEqual({
      create: ['citext', 'pgmq', 'timescaledb', 'vector'],
      outputPlugins: ['wal2json'],
      preload: ['timescaledb'],
      settings: { wal_level: 'logical' },
    });
  });

  it('is stable: the same config gives the same text whatever the declaration order', () => {
    const a = renderNixExtensions(config({ extensions: ['vector', 'pgmq'] }), lookup).text;
    const b = renderNixExtensions(config({ extensions: ['pgmq', { name: 'vector', required: false }] }), lookup).text;
    expect(a).toBe(b);
    expect(a.endsWith('}\n')).toBe(true);
    expect(JSON.parse(a)._comment).toMatch(/do not edit.*npm run setup/);
  });

  it('names an unavailable extension with the alternative, and an unknown one, and leaves both out', () => {
    const { spec, problems } = renderNixExtensions(config({ extensions: ['vectors', { name: 'our_ext', required: false }, 'vector'] }), lookup);
    expect(spec.extensions).toEqual(['pgvector']);
    expect(problems).toEqual([
      expect.objectContaining({ name: 'vectors', kind: 'unavailable', required: true, message: expect.stringMatching(/vectors.*PostgreSQL 17.*VectorChord/) }),
      expect.objectContaining({ name: 'our_ext', kind: 'unknown', required: false }),
    ]);
  });

  it('builds dependencies too, and checks an extension under the name nixpkgs installs it as', () => {
    const { spec, problems } = renderNixExtensions(config({ extensions: ['vchord', 'pgx_ulid', 'needs_missing'] }), lookup);
    expect(spec.extensions).toEqual(['needs_missing', 'pgvector', 'pgx_ulid', 'vectorchord']);
    expect(spec.check.create).toEqual(['needs_missing', 'ulid', 'vchord', 'vector']);
    expect(problems).toEqual([
      expect.objectContaining({ name: 'not_catalogued', kind: 'unknown', message: expect.stringContaining('a dependency of a declared extension') }),
    ]);
  });

  it('gives the shell what npm run env uses: superuser, first database, project-relative folders; never the port', () => {
    const { spec, text } = renderNixExtensions(config({ postgresMajor: 18, superuser: 'admin', databases: ['shop', 'other'], dataDir: '/srv/pg' }), lookup);
    expect(spec.postgresql).toBe('postgresql_18');
    expect(spec.shell).toEqual({ user: 'admin', database: 'shop', stateDir: '.pgstrap', dataDir: '/srv/pg', socketDir: '.pgstrap/run' });
    // A port (derived from the folder, or set) is one machine's: changing it leaves the committed file as it is.
    expect(renderNixExtensions(config({ postgresMajor: 18, superuser: 'admin', databases: ['shop', 'other'], dataDir: '/srv/pg', port: 6000 }), lookup).text).toBe(text);
  });
});

describe('compareNixExtensions', () => {
  const expected = renderNixExtensions(config({ extensions: ['vector', 'pgmq'] }), lookup);

  it('is up to date only for the exact text', () => {
    expect(compareNixExtensions(expected, expected.text).upToDate).toBe(true);
    const reformatted = compareNixExtensions(expected, JSON.stringify(expected.spec));
    expect(reformatted).toMatchObject({ upToDate: false, missing: [], extra: [] });
    expect(reformatted.stale).toEqual(['formatting or order differs from what setup writes']);
  });

  it('names missing and extra attributes and other stale keys', () => {
    const old = { ...expected.spec, extensions: ['pgvector', 'timescaledb'], shell: { ...expected.spec.shell, user: 'admin' } };
    const drift = compareNixExtensions(expected, JSON.stringify(old, null, 2));
    expect(drift.missing).toEqual(['pgmq']);
    expect(drift.extra).toEqual(['timescaledb']);
    expect(drift.stale).toEqual([expect.stringMatching(/^shell: .*admin.*postgres/)]);
  });

  it('reports an absent or broken file', () => {
    expect(compareNixExtensions(expected, undefined)).toMatchObject({ upToDate: false, missing: ['pgmq', 'pgvector'] });
    expect(compareNixExtensions(expected, '{').stale).toEqual(['nix/extensions.json is not valid JSON']);
  });
});

describe('the nix-extensions setup step', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  function project(withFlake: boolean): ResolvedConfig {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-nixext-'));
    dirs.push(dir);
    if (withFlake) fs.writeFileSync(path.join(dir, 'flake.nix'), '{ outputs = _: { }; }\n');
    // Only catalogue-independent extensions here: contrib-free, unknown names stay out of the file.
    return config({ extensions: [{ name: 'team_ext', required: false }] }, dir);
  }
  function ctx(cfg: ResolvedConfig): RunContext {
    return { config: cfg, target: {} as Target, reports: [], log: () => {} };
  }

  it('runs first in setup (it needs no server)', () => {
    expect(SETUP_STEPS[0]).toBe(nixExtensionsStep);
  });

  it('is skipped in a project without flake.nix', () => {
    expect(nixExtensionsStep.skip!(ctx(project(false)))).toBe('no flake.nix in the project');
  });

  it('writes the file once, then reports nothing to do; doctor sees drift and the fix', async () => {
    const cfg = project(true);
    expect(nixExtensionsStep.skip!(ctx(cfg))).toBeUndefined();
    expect(readNixExtensionsCheck(cfg)).toMatchObject({ ok: false, stale: ['nix/extensions.json does not exist'], fix: 'npm run setup' });

    const first = await nixExtensionsStep.run(ctx(cfg));
    expect(first.changes).toEqual([expect.stringMatching(/^wrote nix\/extensions\.json/)]);
    expect(first.notes).toEqual([expect.stringMatching(/team_ext is not in pgstrap's extension catalogue/)]);
    const file = path.join(cfg.projectDir, 'nix/extensions.json');
    const mtime = fs.statSync(file).mtimeMs;
    expect(readNixExtensionsCheck(cfg).ok).toBe(true);

    const second = await nixExtensionsStep.run(ctx(cfg));
    expect(second.changes).toEqual([]);
    expect(fs.statSync(file).mtimeMs).toBe(mtime);

    // Another port changes nothing in the committed file; another superuser does.
    expect(readNixExtensionsCheck({ ...cfg, port: 6000 }).ok).toBe(true);
    const moved = { ...cfg, superuser: 'admin' };
    const check = readNixExtensionsCheck(moved);
    expect(check.ok).toBe(false);
    expect(check.stale).toEqual([expect.stringMatching(/^shell: .*admin/)]);
    try {
      assertNixExtensionsInSync(moved);
      throw new Error('expected assertNixExtensionsInSync to throw');
    } catch (error) {
      expect(isPgstrapError(error)).toBe(true);
      expect((error as PgstrapError).code).toBe('nix.extensions-stale');
      expect((error as PgstrapError).remedy).toMatch(/npm run setup/);
    }
  });

  it('is skipped for a --config file other than the project\'s extensions.config.*, which leaves the committed file alone', async () => {
    const cfg = project(true);
    const scratch = { ...cfg, file: path.join(cfg.projectDir, 'scratch.config.ts'), extensions: [] };
    expect(nixExtensionsStep.skip!(ctx(scratch))).toMatch(/^scratch\.config\.ts is not the project's config/);
    expect(nixExtensionsStep.skip!(ctx({ ...cfg, file: path.join(cfg.projectDir, 'extensions.config.mts') }))).toBeUndefined();
    expect(nixExtensionsStep.skip!(ctx({ ...cfg, file: path.join(cfg.projectDir, 'sub', 'extensions.config.ts') }))).toMatch(/is not the project's config/);
  });

  it('warns, naming the alternative, when a declared extension is unavailable in nixpkgs for 17 (vectors)', async () => {
    const cfg = { ...project(true), extensions: [{ name: 'vectors', required: true, databases: ['app'], schema: undefined, version: undefined }] };
    const outcome = await nixExtensionsStep.run(ctx(cfg));
    expect(outcome.status).toBe('warning');
    expect(outcome.notes).toEqual([expect.stringMatching(/^vectors: nixpkgs cannot provide it for PostgreSQL 17 .*VectorChord/i)]);
    expect(JSON.parse(fs.readFileSync(path.join(cfg.projectDir, 'nix/extensions.json'), 'utf8')).extensions).toEqual([]);
  });

  it('notes that an unfree extension is allowed by name (timescaledb)', async () => {
    const cfg = { ...project(true), extensions: [{ name: 'timescaledb', required: true, databases: ['app'], schema: undefined, version: undefined }] };
    const outcome = await nixExtensionsStep.run(ctx(cfg));
    expect(outcome.notes).toEqual([
      "unfree, allowed by name only in flake.nix's allowUnfreePredicate: timescaledb; nixpkgs also builds timescaledb (free build: timescaledb-apache)",
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(cfg.projectDir, 'nix/extensions.json'), 'utf8')).unfree).toEqual(['timescaledb']);
  });
});

describe('the committed nix/extensions.json', () => {
  it('is what `npm run setup` writes for extensions.config.ts (else run npm run setup and commit it)', async () => {
    const repoConfig = await loadConfig({ cwd: REPO_ROOT });
    const check = readNixExtensionsCheck(repoConfig);
    expect({ missing: check.missing, extra: check.extra, stale: check.stale }, `${check.file} is out of date: run \`${check.fix}\` and commit it`).toEqual({
      missing: [],
      extra: [],
      stale: [],
    });
    expect(check.ok).toBe(true);
  });
});
