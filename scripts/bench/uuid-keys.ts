/**
 * The primary-key benchmark: v4, the uuidv7() strategy in effect, the SQL fallback and pg_uuidv7 (where
 * installed), side by side in one run on one server. Effects only; the SQL text, statistics and the
 * report's shape live beside it (sql.ts, model.ts).
 */
import { type FallbackRandom } from '../config/types.ts';
import os from 'node:os';
import type pg from 'pg';
import type { Generator, GeneratorResult, InsertThroughput, KeyBenchReport } from './model.ts';
import {
  CORRELATION_SQL,
  EXTENSION_SCHEMA_SQL,
  HAS_UUIDV7_SQL,
  OTHER_ACTIVITY_SQL,
  WAL_DIFF_SQL,
  WAL_LSN_SQL,
  bulkInsertSql,
  createPollingIndexSql,
  createTableSql,
  dropTableSql,
  dropPollingIndexSql,
  explainWalSql,
  keyCheckSql,
  keysetSql,
  indexSizeSql,
  pgstatindexSql,
  pollingSql,
  singleInsertSql,
  tableName,
  vacuumAnalyzeSql,
  walBytesOfExplain,
} from './sql.ts';
import { chooseGenerators } from './generators.ts';
import type { KeyBenchOptions } from './options.ts';
import { summarise } from './stats.ts';
import { messageOf } from '../shared/errors.ts';
import { quoteIdent } from '../shared/identifiers.ts';
import { generateSql } from './generation.ts';
import { installFallbackSql } from '../uuidv7/sql.ts';
import { readUuidv7Strategy } from '../uuidv7/read.ts';
import { findPgbench, nodeInserts, pgbenchInserts, type DriverResult } from './insert-driver.ts';
import type { BenchSession } from './session.ts';
import { SERVER_VERSION, toServerVersion } from '../server/connection.ts';

/** The generators measured on this database, and why any is missing. */
export interface KeyBenchPlan {
  generators: Generator[];
  strategy: string | null;
  /** Schema holding pgstatindex(), or null when pgstattuple is unavailable. */
  pgstattupleSchema: string | null;
  notes: string[];
}

/** Reads what the database offers, installs the SQL fallback and pgstattuple in the bench schema. */
export async function planKeyBench(session: BenchSession, fallbackRandom: FallbackRandom): Promise<KeyBenchPlan> {
  const notes: string[] = [];
  return session.withClient(async (client) => {
    const strategy = await readUuidv7Strategy(client);
    const hasUuidv7 = (await client.query<{ ok: boolean }>(HAS_UUIDV7_SQL)).rows[0]!.ok;
    const pgUuidv7 = (await client.query<{ schema: string }>(EXTENSION_SCHEMA_SQL, ['pg_uuidv7'])).rows[0];
    // The fallback goes into the bench schema even where it is not the strategy, so it is always compared.
    await client.query(installFallbackSql(session.schema, fallbackRandom));
    const chosen = chooseGenerators({ strategy: strategy ?? null, hasUuidv7, pgUuidv7Schema: pgUuidv7?.schema ?? null, benchSchema: session.schema });
    const { generators } = chosen;
    notes.push(...chosen.notes);
    const pgstattupleSchema = await ensurePgstattuple(session, client, notes);
    if (!(await checkpoint(client))) {
      notes.push('CHECKPOINT is not allowed for this role (it needs pg_checkpoint): WAL per insert then depends on where the server\'s own checkpoints fall');
    }
    return { generators, strategy: chosen.strategy, pgstattupleSchema, notes };
  });
}

/** pgstattuple's schema: where it is installed, else created in the bench schema (and dropped with it). */
async function ensurePgstattuple(session: BenchSession, client: pg.Client, notes: string[]): Promise<string | null> {
  const installed = (await client.query<{ schema: string }>(EXTENSION_SCHEMA_SQL, ['pgstattuple'])).rows[0];
  if (installed) return installed.schema;
  const available = (await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pgstattuple'`)).rowCount;
  if (!available) {
    notes.push('pgstattuple is not available on this server: no leaf density or fragmentation');
    return null;
  }
  try {
    await client.query(`CREATE EXTENSION pgstattuple SCHEMA ${quoteIdent(session.schema)}`);
    session.createdExtensions.push('pgstattuple');
    return session.schema;
  } catch (error) {
    notes.push(`pgstattuple could not be created (${messageOf(error)}): no leaf density or fragmentation`);
    return null;
  }
}

/** CHECKPOINT where allowed, so each generator starts with the same full-page-write state. */
async function checkpoint(client: pg.Client): Promise<boolean> {
  try {
    await client.query('CHECKPOINT');
    return true;
  } catch {
    return false;
  }
}

async function walPosition(client: pg.Client): Promise<string> {
  return (await client.query<{ lsn: string }>(WAL_LSN_SQL)).rows[0]!.lsn;
}

async function walBytes(client: pg.Client, before: string): Promise<number> {
  return (await client.query<{ bytes: number }>(WAL_DIFF_SQL, [before, await walPosition(client)])).rows[0]!.bytes;
}

/** Times `count` executions of a prepared query after a short warm-up; latencies in ms. */
async function latencies(client: pg.Client, name: string, text: string, count: number, next: (rows: Array<{ id: string }>) => unknown[]) {
  const samples: number[] = [];
  let values = next([]);
  for (let i = 0; i < count + 5; i += 1) {
    const started = performance.now();
    const result = await client.query<{ id: string }>({ name, text, values });
    if (i >= 5) samples.push(performance.now() - started);
    values = next(result.rows);
  }
  return summarise(samples);
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Measures one generator on its own table (kept for the insert rounds; the schema's drop removes it). */
export async function measureGenerator(
  session: BenchSession,
  plan: KeyBenchPlan,
  generator: Generator,
  options: KeyBenchOptions,
  log: (line: string) => void,
): Promise<Omit<GeneratorResult, 'inserts'>> {
  const schema = session.schema;
  return session.withClient(async (client) => {
    await client.query(createTableSql(schema, generator));
    try {
      log(`bulk-loading ${options.rows.toLocaleString('en-US')} rows`);
      await checkpoint(client);
      let started = performance.now();
      const explained = await client.query<{ 'QUERY PLAN': unknown }>(explainWalSql(bulkInsertSql(schema, generator)), [options.rows]);
      const seconds = (performance.now() - started) / 1000;
      const bulkWal = walBytesOfExplain(explained.rows[0]!['QUERY PLAN']);

      log('checking keys, vacuuming, reading the index');
      const check = (await client.query<{ checked: number; wrong_version: number; wrong_variant: number }>(keyCheckSql(schema, generator), [generator.version])).rows[0]!;
      // VACUUM sets hint bits and the visibility map, so every generator's queries start from the same state.
      await client.query(vacuumAnalyzeSql(schema, generator));
      const bytes = Number((await client.query<{ bytes: string }>(indexSizeSql(schema, generator))).rows[0]!.bytes);
      const correlation = (await client.query<{ correlation: number }>(CORRELATION_SQL, [schema, tableName(generator)])).rows[0]?.correlation ?? null;
      let density: number | null = null;
      let fragmentation: number | null = null;
      if (plan.pgstattupleSchema) {
        const stats = (await client.query<{ density: number; fragmentation: number }>(pgstatindexSql(plan.pgstattupleSchema, schema, generator))).rows[0]!;
        density = stats.density;
        fragmentation = stats.fragmentation;
      }

      log(`timing ${options.queries} polling queries (without and with an index on status), ${options.queries} keyset pages`);
      const polling = await latencies(client, `poll_${generator.id}`, pollingSql(schema, generator), options.queries, () => []);
      let last = ZERO_UUID;
      const keyset = await latencies(client, `keyset_${generator.id}`, keysetSql(schema, generator), options.queries, (rows) => {
        // Walk the table page by page; start again at the end.
        last = rows.length === 50 ? rows[rows.length - 1]!.id : ZERO_UUID;
        return [last];
      });

      // The shipped llm_requests migration indexes (status, id DESC) for exactly this query: measure that too.
      await client.query(createPollingIndexSql(schema, generator));
      const pollingIndexed = await latencies(client, `poll_idx_${generator.id}`, pollingSql(schema, generator), options.queries, () => []);
      await client.query(dropPollingIndexSql(schema, generator));

      log(`generating ${options.generationIds.toLocaleString('en-US')} ids`);
      started = performance.now();
      await client.query(generateSql(generator.expression), [options.generationIds]);
      const generationSeconds = (performance.now() - started) / 1000;

      return {
        generator,
        keys: { checked: check.checked, wrongVersion: check.wrong_version, wrongVariant: check.wrong_variant },
        bulk: { rows: options.rows, seconds, rowsPerSecond: options.rows / seconds, walBytesPerRow: bulkWal / options.rows },
        index: { bytes, leafDensity: density, leafFragmentation: fragmentation, correlation },
        polling,
        pollingIndexed,
        keyset,
        generation: { ids: options.generationIds, seconds: generationSeconds, nanosecondsPerId: (generationSeconds * 1e9) / options.generationIds },
      };
    } catch (error) {
      await client.query(dropTableSql(schema, generator)).catch(() => {});
      throw error;
    }
  });
}

/**
 * Single-row insert throughput into the bulk-loaded tables, the generators taking turns in rounds (each
 * round starting with another one), so that a noisy moment on a shared machine, such as another
 * process's fsyncs, falls on all of them alike. Each window starts after a CHECKPOINT, as the bulk load did.
 */
export async function measureInserts(
  session: BenchSession,
  generators: Generator[],
  options: KeyBenchOptions,
  log: (line: string) => void,
): Promise<Map<string, InsertThroughput>> {
  const driver = chooseDriver(options);
  const window = options.insertSeconds / options.insertRounds;
  const totals = new Map(generators.map((g) => [g.id, { transactions: 0, seconds: 0, wal: 0, busy: 0, rounds: [] as number[] }]));
  await session.withClient(async (client) => {
    for (let round = 0; round < options.insertRounds; round += 1) {
      for (let k = 0; k < generators.length; k += 1) {
        const generator = generators[(round + k) % generators.length]!;
        log(`round ${round + 1}/${options.insertRounds}: ${generator.label}, ${options.clients} clients (${driver.name})`);
        await checkpoint(client);
        const lsn = await walPosition(client);
        const sampler = sampleOtherActivity(session);
        const result = await driver.run(session, singleInsertSql(session.schema, generator), options.clients, window).finally(() => sampler.stop());
        const total = totals.get(generator.id)!;
        total.wal += await walBytes(client, lsn);
        total.busy += (await sampler.result) / options.insertRounds;
        total.transactions += result.transactions;
        total.seconds += result.seconds;
        total.rounds.push(Math.round(result.transactions / result.seconds));
      }
    }
  });
  return new Map(
    [...totals].map(([id, t]) => [
      id,
      {
        driver: driver.name,
        clients: options.clients,
        seconds: t.seconds,
        transactions: t.transactions,
        perSecond: t.transactions / t.seconds,
        perSecondByRound: t.rounds,
        walBytesPerInsert: t.transactions > 0 ? t.wal / t.transactions : 0,
        otherSessionsActive: t.busy,
      },
    ]),
  );
}

/**
 * Samples pg_stat_activity every 200 ms while the timed inserts run: an LSN difference counts every
 * session's WAL, so a busy shared server inflates WAL per insert, and the report should say so.
 */
function sampleOtherActivity(session: BenchSession): { stop(): void; result: Promise<number> } {
  let running = true;
  const result = session
    .withClient(async (client) => {
      let samples = 0;
      let busy = 0;
      while (running) {
        const n = (await client.query<{ n: number }>(OTHER_ACTIVITY_SQL, [session.schema])).rows[0]!.n;
        samples += 1;
        if (n > 0) busy += 1;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return samples === 0 ? 0 : busy / samples;
    })
    .catch(() => 0);
  return { stop: () => void (running = false), result };
}

/** The insert driver for these options. */
function chooseDriver(options: KeyBenchOptions): { name: 'node' | 'pgbench'; run(session: BenchSession, sql: string, clients: number, seconds: number): Promise<DriverResult> } {
  const pgbench = options.driver === 'node' ? undefined : findPgbench(options.binDir);
  if (pgbench) {
    // pgbench -T takes whole seconds.
    return { name: 'pgbench', run: (session, sql, clients, seconds) => pgbenchInserts(pgbench, session.connection, sql, clients, Math.max(1, Math.round(seconds))) };
  }
  return { name: 'node', run: (session, sql, clients, seconds) => nodeInserts(session, sql, clients, seconds) };
}

/** Server facts that change the figures. */
export async function describeServer(session: BenchSession): Promise<{ server: string; settings: Record<string, string> }> {
  return session.withClient(async (client) => {
    const { version } = toServerVersion((await client.query(SERVER_VERSION.text)).rows);
    const names = ['shared_buffers', 'synchronous_commit', 'full_page_writes', 'wal_compression'];
    const rows = (await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name`,
      [names],
    )).rows;
    return { server: `PostgreSQL ${version.split(' ')[0]}`, settings: Object.fromEntries(rows.map((r) => [r.name, r.setting])) };
  });
}

/** Assembles the report from a finished run. */
export function keyBenchReport(
  options: KeyBenchOptions,
  server: { server: string; settings: Record<string, string> },
  plan: KeyBenchPlan,
  results: GeneratorResult[],
): KeyBenchReport {
  const drivers = [...new Set(results.map((r) => r.inserts.driver))];
  return {
    rows: options.rows,
    server: server.server,
    settings: server.settings,
    machine: { cpus: os.availableParallelism(), loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    strategy: plan.strategy,
    generators: results,
    notes: [
      ...plan.notes,
      ...drivers.map((d) => `single-row inserts driven by ${d}, ${options.clients} clients, ${options.insertSeconds} s each in ${options.insertRounds} rounds taking turns`),
      ...results
        .filter((r) => r.inserts.otherSessionsActive > 0)
        .map((r) => `${r.generator.label}: other sessions were working on the server in ${Math.round(r.inserts.otherSessionsActive * 100)}% of samples during its timed inserts; their WAL is counted in its WAL per insert`),
    ],
  };
}
