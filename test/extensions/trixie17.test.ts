/**
 * The system engine on the server `nix develop` stands for: Debian 13 ("trixie")'s PostgreSQL 17 with its
 * packaged pgvector, pg_cron, wal2json, PostGIS, h3 and TimescaleDB (test/servers/trixie-postgres.mjs builds
 * it into a private prefix). Every catalogued extension the server has is enabled for real, with its
 * preloads and settings, and each is used by a small query.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../scripts/extensions/catalogue.ts';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { connectionFor, type ManagedTarget } from '../../scripts/server/target.ts';
import { readInstalledFiles } from '../../scripts/extensions/files.ts';
import { initialiseStep, settingsStep, startStep } from '../../scripts/cluster/step.ts';
import { databasesStep } from '../../scripts/databases/step.ts';
import { extensionsCheckStep, extensionsStep } from '../../scripts/extensions/step.ts';
import { uuidv7Step } from '../../scripts/uuidv7/step.ts';
import type { StepReport } from '../../scripts/pipeline/report.ts';
import { makeProject, managedTarget, query, runStepsQuietly, testEnv } from '../support/project.ts';
import { trixiePostgres } from '../support/trixie-postgres.ts';

const STEPS = [extensionsCheckStep, initialiseStep, settingsStep, startStep, databasesStep, extensionsStep, uuidv7Step];
const trixie = await trixiePostgres();
const skip = 'skip' in trixie ? trixie.skip : undefined;
const env = { PG_BIN: 'skip' in trixie ? '' : trixie.binDir };

/** The catalogued extensions trixie packages for PostgreSQL 17 (contrib included). */
const ON_TRIXIE = ['vector', 'h3', 'h3_postgis', 'postgis', 'timescaledb', 'pg_cron', 'wal2json', 'pgcrypto', 'pg_trgm', 'uuid-ossp', 'citext', 'hstore', 'pg_stat_statements'];
// wal2json is declared only where the output_plugin_libraries fix is tested: without it, setup stops at its slot check.
const APP_EXTENSIONS = ['vector', 'postgis', 'h3', 'h3_postgis', 'timescaledb', 'pgcrypto', 'pg_trgm', 'uuid-ossp', 'citext', 'hstore', 'pg_stat_statements'];
const base: PgstrapConfig = {
  engine: 'system',
  postgresMajor: 17,
  databases: ['app', 'jobs'],
  extensions: [...APP_EXTENSIONS.map((name) => ({ name, databases: ['app'] })), { name: 'pg_cron', databases: ['jobs'] }],
  // TimescaleDB's telemetry would try the network from a test.
  settings: { 'timescaledb.telemetry_level': 'off' },
};

/**
 * A project on the trixie server with `raw` as its config; `setUp` runs the pipeline. `remove` stops the cluster
 * first: the project's own cleanup looks for the server without PG_BIN.
 */
async function trixieProject(raw: PgstrapConfig) {
  const project = await makeProject(raw);
  const config = resolveConfig({ ...raw, port: project.config.port }, { file: path.join(project.dir, 'extensions.config.mjs'), projectDir: project.dir });
  const target: ManagedTarget = await managedTarget({ ...project, config }, { env: testEnv(undefined, env) });
  return {
    target,
    setUp: () => runStepsQuietly(STEPS, config, target),
    remove: async () => {
      await target.cluster.stop();
      await project.remove();
    },
  };
}

describe.skipIf(skip !== undefined)(`Debian trixie PostgreSQL 17 with its packaged extensions${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let project: Awaited<ReturnType<typeof trixieProject>>;
  let target: ManagedTarget;
  let reports: StepReport[];

  beforeAll(async () => {
    project = await trixieProject(base);
    target = project.target;
    reports = await project.setUp();
  });
  afterAll(async () => project?.remove());

  it('is PostgreSQL 17 and has exactly these catalogued extensions', async () => {
    expect(target.binaries).toMatchObject({ engine: 'system', major: 17, origin: 'PG_BIN' });
    const files = await readInstalledFiles(target.binaries);
    const has = CATALOGUE.filter((e) => (e.kind === 'output-plugin' ? files.libraries : files.extensions).has(e.name)).map((e) => e.name);
    expect(has.sort()).toEqual([...ON_TRIXIE].sort());
  });

  it('writes the preloads and settings, and enables every extension in its database', async () => {
    const byId = Object.fromEntries(reports.map((r) => [r.id, r]));
    expect(byId.settings!.notes).toEqual(['cron.use_background_workers: needed by pg_cron', 'cron.database_name: needed by pg_cron', expect.stringMatching(/^shared_preload_libraries: needed by /)]);
    expect(byId.settings!.notes[2]!.split(': needed by ')[1]!.split(', ').sort()).toEqual(['pg_cron', 'pg_stat_statements', 'timescaledb']);
    expect(byId.start!.changes).toEqual([expect.stringMatching(/^started PostgreSQL 17\.\d+/)]);
    const preload = (await query<{ v: string }>(target, 'app', "SELECT current_setting('shared_preload_libraries') AS v"))[0]!.v;
    expect(preload.split(',').map((s) => s.trim()).sort()).toEqual(['pg_cron', 'pg_stat_statements', 'timescaledb']);
    expect(await query(target, 'jobs', "SELECT current_setting('cron.database_name') AS v")).toEqual([{ v: 'jobs' }]);
    const installed = await query<{ extname: string }>(target, 'app', "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1");
    // h3_postgis requires postgis_raster as well: CREATE EXTENSION ... CASCADE brought it.
    expect(installed.map((r) => r.extname)).toEqual([...APP_EXTENSIONS, 'postgis_raster'].sort());
    expect(await query(target, 'jobs', "SELECT extname FROM pg_extension WHERE extname = 'pg_cron'")).toEqual([{ extname: 'pg_cron' }]);
    const again = await runStepsQuietly(STEPS, target.config, target);
    expect(again.flatMap((r) => r.changes)).toEqual([]);
  });

  it('pgvector: an HNSW index answers a nearest-neighbour query', async () => {
    await query(target, 'app', 'CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))');
    await query(target, 'app', "INSERT INTO items SELECT i, ARRAY[i, i * 2, i * 3]::real[]::vector FROM generate_series(1, 200) i");
    await query(target, 'app', 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)');
    const sql = "SELECT id FROM items ORDER BY embedding <-> '[10, 20, 31]' LIMIT 3";
    const rows = await withSeqscanOff(sql);
    expect(rows.map((r) => r.id)).toEqual([10, 11, 9]);
    const plan = (await withSeqscanOff(`EXPLAIN ${sql}`)).map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('items_hnsw');
  });

  /** Runs `sql` in one transaction with sequential scans off, so the planner takes the index. */
  async function withSeqscanOff(sql: string): Promise<Array<Record<string, unknown>>> {
    return withClient(connectionFor(target, 'app'), async (c) => {
      await c.query('SET enable_seqscan = off');
      return (await c.query(sql)).rows;
    });
  }

  it('PostGIS: ST_Distance, GEOS through ST_Buffer, and a raster band (GDAL)', async () => {
    const [row] = await query<{ d: number; area: number; version: string; pixel: number }>(
      target,
      'app',
      "SELECT ST_Distance('POINT(0 0)'::geometry, 'POINT(3 4)'::geometry) AS d, ST_Area(ST_Buffer('POINT(0 0)'::geometry, 1, 64)) AS area, postgis_full_version() AS version, ST_Value(ST_AddBand(ST_MakeEmptyRaster(2, 2, 0, 0, 1), '8BUI'::text, 7), 1, 1) AS pixel",
    );
    expect(row!.d).toBe(5);
    expect(row!.pixel).toBe(7);
    expect(row!.area).toBeCloseTo(Math.PI, 2);
    expect(row!.version).toMatch(/POSTGIS="3\.5\.\d+.*GEOS="3\.13.*GDAL="GDAL 3\.10/);
  });

  it('h3 and h3_postgis: a point and a geometry fall in the same resolution-9 cell', async () => {
    const [row] = await query<{ cell: string; res: number; same: boolean }>(
      target,
      'app',
      "SELECT h3_lat_lng_to_cell(point(2.2945, 48.8584), 9)::text AS cell, h3_get_resolution(h3_lat_lng_to_cell(point(2.2945, 48.8584), 9)) AS res, h3_lat_lng_to_cell(ST_SetSRID(ST_MakePoint(2.2945, 48.8584), 4326), 9) = h3_lat_lng_to_cell(point(2.2945, 48.8584), 9) AS same",
    );
    expect(row).toEqual({ cell: expect.stringMatching(/^89[0-9a-f]{13}$/), res: 9, same: true });
  });

  it('TimescaleDB: a hypertable splits rows into chunks and time_bucket groups them', async () => {
    await query(target, 'app', 'CREATE TABLE metrics (t timestamptz NOT NULL, v double precision)');
    await query(target, 'app', "SELECT create_hypertable('metrics', by_range('t', INTERVAL '1 day'))");
    await query(target, 'app', "INSERT INTO metrics SELECT timestamptz '2026-01-01' + i * INTERVAL '1 hour', i FROM generate_series(0, 71) i");
    expect(await query(target, 'app', "SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'metrics'")).toEqual([{ n: 3 }]);
    const buckets = await query(target, 'app', "SELECT time_bucket('1 day', t) AS day, count(*)::int AS n FROM metrics GROUP BY 1 ORDER BY 1");
    expect(buckets.map((r) => r.n)).toEqual([24, 24, 24]);
  });

  it('pg_cron: a job is scheduled in the cron database', async () => {
    const [{ jobid }] = (await query<{ jobid: string }>(target, 'jobs', "SELECT cron.schedule('nightly-vacuum', '0 3 * * *', 'VACUUM') AS jobid")) as [{ jobid: string }];
    expect(await query(target, 'jobs', 'SELECT jobname, schedule, database FROM cron.job WHERE jobid = $1', [jobid])).toEqual([
      { jobname: 'nightly-vacuum', schedule: '0 3 * * *', database: 'jobs' },
    ]);
    await query(target, 'jobs', "SELECT cron.unschedule('nightly-vacuum')");
  });

  it('contrib: pg_stat_statements counts, pgcrypto, pg_trgm, uuid-ossp, citext and hstore answer', async () => {
    const [row] = await query(
      target,
      'app',
      "SELECT encode(digest('abc', 'sha256'), 'hex') AS sha, similarity('postgres', 'postgis') > 0.3 AS similar, uuid_generate_v4()::text ~ '^[0-9a-f-]{36}$' AS v4, 'ABC'::citext = 'abc' AS ci, ('a=>1'::hstore) -> 'a' AS h",
    );
    expect(row).toEqual({ sha: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', similar: true, v4: true, ci: true, h: '1' });
    const [stats] = await query<{ n: number }>(target, 'app', "SELECT count(*)::int AS n FROM pg_stat_statements WHERE query LIKE '%digest%'");
    expect(stats!.n).toBeGreaterThan(0);
  });

  it('uuidv7() is the SQL fallback (trixie packages no pg_uuidv7) and makes version-7 ids', async () => {
    const byId = Object.fromEntries(reports.map((r) => [r.id, r]));
    expect(byId.uuidv7!.status).not.toBe('skipped');
    const [row] = await query<{ id: string }>(target, 'app', 'SELECT uuidv7()::text AS id');
    expect(row!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

// trixie's 17.12 has output_plugin_libraries (wal2json must be allowed there) and pg_cron 1.6 (its jobs must connect).
describe.skipIf(skip !== undefined)(`trixie PostgreSQL 17: a wal2json slot and a pg_cron job, for real${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const projects: Array<Awaited<ReturnType<typeof trixieProject>>> = [];
  afterAll(async () => Promise.all(projects.map((p) => p.remove())));

  /** A fresh project set up with `raw`. */
  async function fresh(raw: PgstrapConfig) {
    const project = await trixieProject(raw);
    projects.push(project);
    await project.setUp();
    return project;
  }

  it('wal2json: setup allows it as an output plugin, and a slot decodes an insert as JSON', async () => {
    const { target } = await fresh({ ...base, extensions: [...(base.extensions ?? []), 'wal2json'] });
    expect(await query(target, 'app', "SELECT current_setting('wal_level') AS v")).toEqual([{ v: 'logical' }]);
    await query(target, 'app', 'CREATE TABLE events (id int PRIMARY KEY, body text)');
    await query(target, 'app', "SELECT pg_create_logical_replication_slot('trixie_wal2json', 'wal2json')");
    try {
      await query(target, 'app', "INSERT INTO events VALUES (1, 'hello')");
      // One JSON document per transaction (format 1); a transaction that changed nothing, which another session may
      // commit meanwhile, adds an empty one: every change decoded, across them all, must be the insert.
      const changes = await query<{ data: string }>(target, 'app', "SELECT data FROM pg_logical_slot_get_changes('trixie_wal2json', NULL, NULL)");
      const decoded = changes.flatMap((c) => (JSON.parse(c.data) as { change: unknown[] }).change);
      expect(decoded).toEqual([expect.objectContaining({ kind: 'insert', table: 'events', columnvalues: [1, 'hello'] })]);
    } finally {
      await query(target, 'app', "SELECT pg_drop_replication_slot('trixie_wal2json')");
    }
  });

  it('pg_cron: a scheduled job runs and succeeds', async () => {
    const { target } = await fresh({ ...base, extensions: [{ name: 'pg_cron', databases: ['jobs'] }] });
    await query(target, 'jobs', "SELECT cron.schedule('trixie-tick', '1 seconds', 'SELECT 1')");
    try {
      const deadline = Date.now() + 30_000;
      let runs: Array<{ status: string; return_message: string }> = [];
      while (Date.now() < deadline) {
        runs = await query(target, 'jobs', "SELECT status, return_message FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'trixie-tick' AND status IN ('succeeded', 'failed')");
        if (runs.length > 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      // As one string, so a failure shows pg_cron's message.
      expect(runs[0] && `${runs[0].status}: ${runs[0].return_message}`).toMatch(/^succeeded: /);
    } finally {
      await query(target, 'jobs', "SELECT cron.unschedule('trixie-tick')");
    }
  });
});
