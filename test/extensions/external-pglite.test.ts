/**
 * The extension path on an external server: PGlite (PostgreSQL 17.5 in WASM, with its pg_uuidv7 and
 * vector) served by pglite-socket and reached by URL. pglite-socket serves one connection at a time,
 * and pgstrap's steps open one connection at a time, closing it before the next.
 */
import { PGlite } from '@electric-sql/pglite';
import { pg_uuidv7 } from '@electric-sql/pglite/pg_uuidv7';
import { vector } from '@electric-sql/pglite/vector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { isPgstrapError, type PgstrapError } from '../../scripts/shared/errors.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { readUuidv7Strategy } from '../../scripts/uuidv7/read.ts';
import { selectTarget } from '../../scripts/server/select.ts';
import { connectionFor, type Target } from '../../scripts/server/target.ts';
import { databasesStep } from '../../scripts/databases/step.ts';
import { extensionsCheckStep, extensionsStep } from '../../scripts/extensions/step.ts';
import { uuidv7Step } from '../../scripts/uuidv7/step.ts';
import { verifyStep } from '../../scripts/uuidv7/verify-step.ts';
import { freePort, makeProject, query, runCli, runStepsQuietly, testEnv } from '../support/project.ts';

const STEPS = [extensionsCheckStep, databasesStep, extensionsStep, uuidv7Step, verifyStep];

let db: PGlite;
let server: PGLiteSocketServer;
let url: string;

beforeAll(async () => {
  db = await PGlite.create({ extensions: { vector, pg_uuidv7 } });
  const port = await freePort();
  server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' });
  await server.start();
  // The URL names the database, so pgstrap manages that one with the first configured declaration.
  url = `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;
});
afterAll(async () => {
  await server?.stop();
  await db?.close();
});

async function external(raw: PgstrapConfig): Promise<{ config: ReturnType<typeof resolveConfig>; target: Target }> {
  const config = resolveConfig(raw, { file: '/nonexistent/extensions.config.ts', projectDir: '/nonexistent' });
  return { config, target: await selectTarget(config, { url, env: testEnv() }) };
}

async function installed(target: Target): Promise<string[]> {
  return (await query<{ extname: string }>(target, 'postgres', 'SELECT extname FROM pg_extension ORDER BY 1')).map((r) => r.extname);
}

describe('PGlite as an external server', () => {
  it('stops before any change when a required extension is missing, naming it, the server and the fix', async () => {
    const { config, target } = await external({ extensions: ['vector', 'pgmq', { name: 'pg_cron', databases: ['app'] }] });
    const before = await installed(target);
    const error = await runStepsQuietly(STEPS, config, target).catch((e: unknown) => e);
    expect(isPgstrapError(error)).toBe(true);
    const e = error as PgstrapError;
    expect(e.code).toBe('extension.missing');
    expect(e.exit).toBe(3);
    expect(e.message).toMatch(/^required extensions pgmq, pg_cron not available on external server 127\.0\.0\.1:\d+\/postgres \(PostgreSQL 17\.5\)$/);
    expect(e.details.join('\n')).toMatch(/pgmq \(postgres\): .*\n {2}fix: Install it on that server \(nixpkgs: postgresql_17\.pkgs\.pgmq.*required: false/);
    expect(await installed(target)).toEqual(before);
  });

  it("enables what the server has, warns about the rest, and gives uuidv7() through pg_uuidv7 with uuidv7.generator: 'pg_uuidv7'", async () => {
    const { config, target } = await external({
      extensions: [{ name: 'pg_uuidv7', required: false }, { name: 'vector', required: false }, { name: 'pgmq', required: false }, { name: 'we"ird', required: false }],
      uuidv7: { generator: 'pg_uuidv7' },
    });
    const reports = await runStepsQuietly(STEPS, config, target);
    const byId = Object.fromEntries(reports.map((r) => [r.id, r]));
    expect(byId['extensions-check']!.status).toBe('skipped');
    expect(byId.extensions!.changes).toEqual(['postgres: created extension pg_uuidv7', 'postgres: created extension vector']);
    expect(byId.extensions!.status).toBe('warning');
    expect(byId.extensions!.notes).toEqual([
      expect.stringMatching(/^optional extension pgmq skipped in postgres: pgmq is not available on external server .*\(PostgreSQL 17\.5\).*To get it: Install it/),
      expect.stringMatching(/^optional extension we"ird skipped in postgres: we"ird is not available .*catalogue does not know we"ird/),
    ]);
    expect(byId.uuidv7!.changes).toEqual([
      "postgres: created public.uuidv7() calling pg_uuidv7's uuid_generate_v7()",
      'postgres: recorded strategy pg_uuidv7',
    ]);
    expect(byId.verify!.notes[0]).toMatch(/strategy pg_uuidv7; 10000 ids: version 7, RFC variant, unique.*\d+ of 9999 consecutive pairs out of order; expected: /);
    expect(byId.verify!.notes[1]).toMatch(/SQL fallback, random bits from gen_random_uuid\(\) \(installed in a rolled-back transaction\): passes the same checks/);
    expect(await withClient(connectionFor(target, 'postgres'), readUuidv7Strategy)).toBe('pg_uuidv7');
  });

  it('runs the seed documents\' SQL unchanged and reads v7 timestamps, which 17 cannot natively', async () => {
    const { target } = await external({});
    const [row] = await query<{ id: string; ts: Date; native: Date | null; now: Date }>(
      target,
      'postgres',
      'SELECT u AS id, uuidv7_extract_timestamp(u) AS ts, uuid_extract_timestamp(u) AS native, now() FROM (SELECT uuidv7() AS u) s',
    );
    expect(row!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row!.native).toBeNull();
    expect(Math.abs(row!.ts.getTime() - row!.now.getTime())).toBeLessThan(1000);
    await withClient(connectionFor(target, 'postgres'), async (c) => {
      await c.query('CREATE TEMP TABLE seed (id uuid PRIMARY KEY DEFAULT COALESCE(uuidv7(), gen_random_uuid()), n int)');
      await c.query('INSERT INTO seed (n) SELECT generate_series(1, 100)');
      expect((await c.query('SELECT count(*)::int AS n FROM seed')).rows[0].n).toBe(100);
    });
  });

  it('npm run verify --json reports the strategy and the checks, and changes nothing', async () => {
    // A project folder without a config file: the defaults apply, the URL names the database.
    const project = await makeProject();
    try {
      const result = await runCli(['verify', '--json', '--url', url], { cwd: project.dir });
      expect(result.exitCode, String(result.stdout) + String(result.stderr)).toBe(0);
      const doc = JSON.parse(String(result.stdout));
      expect(doc).toMatchObject({ ok: true, changed: false, steps: [{ id: 'verify', status: 'unchanged' }] });
      expect(doc.steps[0].notes[0]).toMatch(/^postgres: uuidv7\(\) strategy pg_uuidv7; 10000 ids/);
    } finally {
      await project.remove();
    }
  });

  it('changes nothing on a second run', async () => {
    const { config, target } = await external({ extensions: [{ name: 'pg_uuidv7', required: false }, { name: 'vector', required: false }], uuidv7: { generator: 'pg_uuidv7' } });
    const reports = await runStepsQuietly(STEPS, config, target);
    expect(reports.flatMap((r) => r.changes)).toEqual([]);
  });

  it("uuidv7.generator: 'fallback' (the default) puts the in-order SQL fallback in front of pg_uuidv7, and back", async () => {
    const extensions = [{ name: 'pg_uuidv7', required: false }];
    const byDefault = await external({ extensions });
    expect(byDefault.config.uuidv7.generator).toBe('fallback');
    const [uuidv7, verify] = await runStepsQuietly([uuidv7Step, verifyStep], byDefault.config, byDefault.target);
    expect(uuidv7!.changes).toEqual([
      "postgres: replaced public.uuidv7(), pgstrap's SQL fallback (uuidv7.generator: 'fallback', in order, though pg_uuidv7 is installed), random bits from gen_random_uuid()",
      'postgres: recorded strategy fallback (was pg_uuidv7)',
    ]);
    expect(verify!.notes).toEqual([expect.stringMatching(/^postgres: uuidv7\(\) strategy fallback \(random bits from gen_random_uuid\(\)\); \d+ ids: .*in order \(0 of \d+ consecutive pairs out of order\)/)]);
    const [order] = await query<{ out_of_order: number; ext: string }>(
      byDefault.target,
      'postgres',
      `SELECT (SELECT extname FROM pg_extension WHERE extname = 'pg_uuidv7') AS ext, count(*) FILTER (WHERE id <= prev)::int AS out_of_order
         FROM (SELECT id, lag(id) OVER (ORDER BY n) AS prev FROM (SELECT n, uuidv7() AS id FROM generate_series(1, 20000) n) g) s`,
    );
    expect(order).toEqual({ ext: 'pg_uuidv7', out_of_order: 0 });
    expect((await runStepsQuietly([uuidv7Step], byDefault.config, byDefault.target)).flatMap((r) => r.changes)).toEqual([]);
    const chosen = await external({ extensions, uuidv7: { generator: 'pg_uuidv7' } });
    const [back] = await runStepsQuietly([uuidv7Step], chosen.config, chosen.target);
    expect(back!.changes).toEqual(["postgres: replaced public.uuidv7(): it now calls pg_uuidv7's uuid_generate_v7()", 'postgres: recorded strategy pg_uuidv7 (was fallback)']);
    expect(await withClient(connectionFor(chosen.target, 'postgres'), readUuidv7Strategy)).toBe('pg_uuidv7');
  });
});
