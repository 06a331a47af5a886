/**
 * The primary-key bench against a real server (embedded PostgreSQL 17 in a temp project): the report's
 * shape, valid keys from every generator, and nothing left behind, also after a failed step, Ctrl-C and
 * on an external server without --yes. Figures are not asserted: they depend on the machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeyBench } from '../../scripts/bench/run.ts';
import { BenchSession, withBenchSession } from '../../scripts/bench/session.ts';
import { measureGenerator, planKeyBench } from '../../scripts/bench/uuid-keys.ts';
import { measureUuidv7Generation } from '../../scripts/bench/uuidv7-generation.ts';
import { formatGenerationReport } from '../../scripts/bench/generation.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { SETUP_STEPS } from '../../scripts/pipeline/steps.ts';
import type { KeyBenchOptions } from '../../scripts/bench/options.ts';
import { connectionFor, readPassword, type ManagedTarget } from '../../scripts/server/target.ts';
import { REPO_ROOT, makeProject, managedTarget, query, runCli, runStepsQuietly, testEnv, type TestProject } from '../support/project.ts';

const SMALL: KeyBenchOptions = { rows: 2000, insertSeconds: 0.6, insertRounds: 2, clients: 2, queries: 20, generationIds: 10_000, driver: 'node', fallbackRandom: 'fast' };

let project: TestProject;
let target: ManagedTarget;

beforeAll(async () => {
  project = await makeProject({ databases: ['app'] });
  target = await managedTarget(project);
  await runStepsQuietly(SETUP_STEPS, project.config, target);
});
afterAll(async () => project?.remove());

/** Every schema, table and extension a bench could leave in `app`. */
async function leftovers(): Promise<string[]> {
  const rows = await query<{ name: string }>(
    target,
    'app',
    `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'pgstrap\\_bench\\_%'
     UNION ALL SELECT relname FROM pg_class WHERE relname LIKE 'keys\\_%'
     UNION ALL SELECT extname FROM pg_extension WHERE extname = 'pgstattuple'`,
  );
  return rows.map((r) => r.name);
}

const runQuietly = (steps: Parameters<typeof runStepsQuietly>[0]) => runStepsQuietly(steps, project.config, target);

describe('npm run bench on the embedded engine', () => {
  it('bench:uuidv7 times v4, both SQL fallbacks and the peer SQL function, with each goal and its verdict, then leaves nothing', async () => {
    const report = await withClient(connectionFor(target, 'app'), (client) => measureUuidv7Generation(client, { rows: 20000, repeats: 2, insertRepeats: 1, fallbackRandom: 'strong' }));
    expect(report.server).toMatch(/^PostgreSQL 17\.\d+, compiled by \S+/);
    expect(report.figures.map((f) => [f.id, f.label])).toEqual([
      ['v4', 'gen_random_uuid() (v4)'],
      ['fallback', 'SQL fallback, strong (configured)'],
      ['fallback_fast', 'SQL fallback, fast'],
      ['peer', 'peer: timestamp over gen_random_uuid(), SQL'],
      ['peer_plpgsql', 'peer: timestamp over gen_random_uuid(), PL/pgSQL'],
    ]);
    for (const f of report.figures) expect(f.indexBytes).toBeGreaterThan(0);
    const order = Object.fromEntries(report.figures.map((f) => [f.id, f.outOfOrder]));
    // Monotonic within a session: pgstrap's fallbacks; the peer is random inside each millisecond.
    expect(order).toMatchObject({ fallback: 0, fallback_fast: 0 });
    expect(order.peer).toBeGreaterThan(1000);
    const text = formatGenerationReport(report);
    expect(text).toMatch(/goal: SQL fallback, strong \(configured\): generation at most 1\.15x the peer SQL function's time \(is \d+\.\d\dx\): (met|NOT met)/);
    expect(text).toMatch(/goal: SQL fallback, strong \(configured\): strictly monotonic within a session \(0 keys out of order\): met/);
    expect(text).toMatch(/goal: SQL fallback, strong \(configured\): keyed inserts at least 1\.2x v4's throughput \(is \d+\.\d\dx\): (met|NOT met)/);
    expect(text).toMatch(/goal: SQL fallback, fast: generation within 1\.5x of gen_random_uuid\(\) \(is \d+\.\d\dx\): (met|NOT met)$/);
    expect(await leftovers()).toEqual([]);
  });

  it('measures every generator with valid keys and the documented report shape, then leaves nothing', async () => {
    const report = await runKeyBench(connectionFor(target, 'app'), SMALL, runQuietly);
    expect(report).toMatchObject({ rows: 2000, server: expect.stringMatching(/^PostgreSQL 17\./), machine: { cpus: expect.any(Number) } });
    const ids = report.generators.map((g) => g.generator.id);
    expect(ids[0]).toBe('v4');
    expect(ids).toContain('fallback');
    for (const result of report.generators) {
      expect(result.keys).toEqual({ checked: 2000, wrongVersion: 0, wrongVariant: 0 });
      expect(result.bulk).toEqual({ rows: 2000, seconds: expect.any(Number), rowsPerSecond: expect.any(Number), walBytesPerRow: expect.any(Number) });
      expect(result.index.bytes).toBeGreaterThan(0);
      // The embedded engine ships contrib, so pgstattuple gives density and fragmentation.
      expect(result.index.leafDensity).toEqual(expect.any(Number));
      expect(result.index.leafFragmentation).toEqual(expect.any(Number));
      expect(result.inserts).toMatchObject({ driver: 'node', clients: 2, transactions: expect.any(Number), perSecondByRound: [expect.any(Number), expect.any(Number)] });
      expect(result.inserts.transactions).toBeGreaterThan(0);
      for (const latency of [result.polling, result.pollingIndexed, result.keyset]) {
        expect(latency).toMatchObject({ count: 20, p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number) });
        expect(latency.p50).toBeLessThanOrEqual(latency.p99);
      }
      expect(result.generation).toMatchObject({ ids: 10_000, nanosecondsPerId: expect.any(Number) });
    }
    // v7 keys from the fallback are in order within a session: the bulk-loaded keys follow the heap.
    const fallback = report.generators.find((g) => g.generator.id === 'fallback')!;
    expect(fallback.generator.version).toBe(7);
    expect(fallback.index.correlation).toBeGreaterThan(0.99);
    expect(await leftovers()).toEqual([]);
  });

  it('drops its schema when a step fails', async () => {
    await expect(
      withBenchSession(connectionFor(target, 'app'), async (session) => {
        const plan = await planKeyBench(session, 'fast');
        expect(await leftovers()).toContain(session.schema);
        const broken = { id: 'broken', label: 'broken', expression: 'no_such_generator()', version: 7 as const };
        await measureGenerator(session, plan, broken, SMALL, () => {});
      }),
    ).rejects.toThrow(/no_such_generator/);
    expect(await leftovers()).toEqual([]);
  });

  it('refuses to drop a schema whose mark is not its own', async () => {
    const session = new BenchSession(connectionFor(target, 'app'));
    await session.create();
    await query(target, 'app', `COMMENT ON SCHEMA "${session.schema}" IS 'somebody else''s'`);
    await expect(session.cleanup()).rejects.toThrow(/refusing to drop/);
    await query(target, 'app', `DROP SCHEMA "${session.schema}"`);
  });

  it('cleans up on Ctrl-C (SIGINT) in the middle of a run', async () => {
    project.writeConfigFile({ databases: ['app'], port: project.config.port });
    const child = execa(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts/cli.ts'), 'bench', '--rows', '3000000', '--driver', 'node'], {
      cwd: project.dir,
      env: { ...testEnv(), CI: 'true', NO_COLOR: '1' },
      reject: false,
      stdin: 'ignore',
    });
    // Wait until the bench schema exists, i.e. the run is under way, then interrupt it.
    const deadline = Date.now() + 60_000;
    while ((await leftovers()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await leftovers()).length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toMatch(/SIGINT: dropping pgstrap_bench_\d+_[0-9a-f]{6}/);
    expect(await leftovers()).toEqual([]);
  });

  it('cleans up on Ctrl-C during --all: the scratch setup projects and their servers are gone too', async () => {
    project.writeConfigFile({ databases: ['app'], port: project.config.port });
    // A temp folder of its own (0755: the server user works in it), so other tests' scratch folders do not count.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bench-test-'));
    fs.chmodSync(tmp, 0o755);
    try {
      const child = execa(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts/cli.ts'), 'bench', '--all', '--rows', '2000', '--driver', 'node'], {
        cwd: project.dir,
        env: { ...testEnv(), CI: 'true', NO_COLOR: '1', TMPDIR: tmp },
        reject: false,
        stdin: 'ignore',
        buffer: true,
      });
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const deadline = Date.now() + 120_000;
      while (!/cold npm run setup 1\/2/.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(output).toMatch(/cold npm run setup 1\/2/);
      child.kill('SIGINT');
      const result = await child;
      expect(result.exitCode).toBe(130);
      expect(await leftovers()).toEqual([]);
      // (tsx keeps its transform cache there too.)
      expect(fs.readdirSync(tmp).filter((name) => name.startsWith('pgstrap-'))).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 180_000);

  it('refuses an external server unless told --yes', async () => {
    const password = encodeURIComponent(readPassword(target.layout) ?? '');
    const url = `postgresql://postgres:${password}@127.0.0.1:${project.config.port}/app`;
    const result = await runCli(['bench', '--url', url, '--json'], { cwd: project.dir });
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(String(result.stdout))).toMatchObject({ ok: false, error: { code: 'bench.external-needs-yes' } });
    expect(await leftovers()).toEqual([]);
  });
});

describe('npm run bench on PostgreSQL 18 (embedded), where uuidv7() is native', () => {
  let project18: TestProject;
  let target18: ManagedTarget;

  beforeAll(async () => {
    project18 = await makeProject({ postgresMajor: 18, engine: 'embedded', databases: ['app'] });
    target18 = await managedTarget(project18);
    await runStepsQuietly(SETUP_STEPS, project18.config, target18);
  });
  afterAll(async () => project18?.remove());

  it('compares v4, the native uuidv7() and the SQL fallback, all keys valid', async () => {
    const report = await runKeyBench(connectionFor(target18, 'app'), SMALL, (steps) => runStepsQuietly(steps, project18.config, target18));
    expect(report.server).toMatch(/^PostgreSQL 18\./);
    expect(report.strategy).toBe('native');
    expect(report.generators.map((g) => [g.generator.id, g.generator.label])).toEqual([
      ['v4', 'v4 gen_random_uuid()'],
      ['uuidv7', 'uuidv7() (native)'],
      ['fallback', 'SQL fallback'],
    ]);
    for (const result of report.generators) expect(result.keys).toEqual({ checked: 2000, wrongVersion: 0, wrongVariant: 0 });
    const schemas = await query(target18, 'app', `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pgstrap\\_bench\\_%'`);
    expect(schemas).toEqual([]);
  });
});
