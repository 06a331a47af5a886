/**
 * Per-test databases on a server: the template, built once per content under an advisory lock so parallel
 * workers share one build, clones of it, and the reaper of clones whose run is gone.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ResolvedDatabase } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { quoteIdent, quoteLiteral } from '../shared/identifiers.ts';
import { SERVER_VERSION, toServerVersion, withClient } from '../server/connection.ts';
import { isProcessAlive } from '../server/process.ts';
import { connectionFor, maintenanceDatabase, type Target } from '../server/target.ts';
import { declaredForTarget } from '../extensions/targeted.ts';
import { readMigrations } from '../migrations/files.ts';
import { readSeeds } from '../seeds/files.ts';
import { seedsOf } from '../seeds/source.ts';
import { runStepsPlain } from '../pipeline/run.ts';
import { DATABASE_STEPS } from '../pipeline/steps.ts';
import {
  buildName,
  cloneName,
  cloneStatement,
  dropTestDatabaseStatements,
  finishTemplateStatements,
  hostTag,
  judgeTestDatabase,
  KEPT_COMMENT,
  templateConfig,
  templateHash,
  templateName,
  CLONE_PREFIX,
  TEMPLATE_PREFIX,
  type CloneStrategy,
  type TemplateInputs,
} from './template.ts';

/** The advisory lock template builds take on the maintenance database: 'pgst' and 1. */
const TEMPLATE_LOCK = [0x70677374, 1] as const;

/** This host's tag, as clone names carry it. */
export const HOST_TAG = hostTag(os.hostname());

/** A template ready to clone. */
export interface Template {
  name: string;
  hash: string;
  serverMajor: number;
  /** True when this call built it (false: it existed, or another worker built it while this one waited). */
  built: boolean;
}

/** The target narrowed to one database that stands for `source`, with its config. */
function buildTarget(target: Target, source: ResolvedDatabase, name: string): Target {
  const { config, database } = templateConfig(target.config, source, name);
  return { ...target, config, databases: [database], ...(target.kind === 'external' ? { mayCreateDatabases: true } : {}) } as Target;
}

/** What the template of `source` is built from, read from the disk and the server. */
export function readTemplateInputs(target: Target, source: ResolvedDatabase, serverVersion: number): TemplateInputs {
  const { config } = target;
  return {
    database: source.name,
    migrations: source.migrations.builtIn ? readMigrations(source.migrations, config.projectDir).map((m) => ({ path: m.path, checksum: m.checksum })) : [],
    migrationsCommand: source.migrations.command,
    seeds: readSeeds(seedsOf(source, config), config.projectDir).map((s) => ({ path: s.path, text: s.text })),
    extensions: declaredForTarget(config, [source]),
    uuidv7: config.uuidv7,
    serverVersion,
  };
}

function assertMayCreate(target: Target): void {
  if (target.kind === 'external' && !target.mayCreateDatabases) {
    throw new PgstrapError({
      code: 'testing.url-names-database',
      message: 'per-test databases need a URL without a database: the URL names one',
      remedy: 'Pass a URL like postgresql://user:password@host:5432 for a role that may create databases (CREATEDB).',
      exit: ExitCode.usage,
    });
  }
}

/** A connection to the maintenance database, which must allow creating databases. */
function maintenance<T>(target: Target, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  assertMayCreate(target);
  return withClient(connectionFor(target, maintenanceDatabase(target)), fn);
}

/**
 * This process's connection to the maintenance database for clones and drops, opened on first use and kept:
 * a clone then costs one statement, not a connection as well. Calls take turns on it. Its socket keeps the
 * process alive only while a call is running or waiting; a connection lost (a restart) is opened again.
 */
interface SharedConnection {
  client: Promise<pg.Client>;
  turn: Promise<unknown>;
  users: number;
}
const shared = new Map<string, SharedConnection>();

async function onSharedMaintenance<T>(target: Target, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  assertMayCreate(target);
  const connection = connectionFor(target, maintenanceDatabase(target));
  const key = JSON.stringify(connection);
  let entry = shared.get(key);
  if (!entry) {
    const forget = () => {
      if (shared.get(key) === created) shared.delete(key);
    };
    const client = (async () => {
      const c = new pg.Client({ connectionTimeoutMillis: 10_000, ...connection });
      await c.connect();
      c.on('error', forget);
      c.on('end', forget);
      return c;
    })();
    const created: SharedConnection = { client, turn: client.catch(() => {}), users: 0 };
    entry = created;
    shared.set(key, created);
    client.catch(forget);
  }
  const current = entry;
  current.users++;
  const run = current.turn.then(async () => {
    const client = await current.client;
    socketOf(client)?.ref();
    try {
      return await fn(client);
    } catch (error) {
      // Not the server's answer (no SQLSTATE): the connection is gone; the next call opens another.
      if (!/^[0-9A-Z]{5}$/.test(String((error as { code?: unknown }).code))) {
        if (shared.get(key) === current) shared.delete(key);
        await client.end().catch(() => {});
      }
      throw error;
    } finally {
      if (--current.users === 0) socketOf(client)?.unref();
    }
  });
  current.turn = run.catch(() => {});
  return run;
}

/** The client's socket, to ref and unref (pg keeps it as connection.stream). */
function socketOf(client: pg.Client): { ref(): void; unref(): void } | undefined {
  const stream = (client as unknown as { connection?: { stream?: { ref?: () => void; unref?: () => void } } }).connection?.stream;
  return stream?.ref && stream.unref ? (stream as { ref(): void; unref(): void }) : undefined;
}

async function readTemplateState(client: pg.Client, name: string): Promise<'ready' | 'absent' | 'broken'> {
  const { rows } = await client.query<{ datistemplate: boolean; comment: string | null }>(
    "SELECT datistemplate, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
    [name],
  );
  const row = rows[0];
  if (!row) return 'absent';
  return row.datistemplate && row.comment?.startsWith('pgstrap template ') ? 'ready' : 'broken';
}

/**
 * The template of `source` for the current migrations, seeds, extensions, uuidv7 config and server version:
 * found ready, or built under the advisory lock (a worker that waited finds it ready). A build first reaps
 * clones of dead runs and templates of older content.
 */
export async function ensureTemplate(target: Target, source: ResolvedDatabase, log: (line: string) => void = () => {}): Promise<Template> {
  return maintenance(target, async (client) => {
    const { versionNum, major } = toServerVersion((await client.query(SERVER_VERSION.text)).rows);
    const hash = templateHash(readTemplateInputs(target, source, versionNum));
    const name = templateName(source.name, hash);
    if ((await readTemplateState(client, name)) === 'ready') return { name, hash, serverMajor: major, built: false };
    await client.query('SELECT pg_advisory_lock($1, $2)', [...TEMPLATE_LOCK]);
    try {
      const state = await readTemplateState(client, name);
      if (state === 'ready') return { name, hash, serverMajor: major, built: false };
      const reaped = await reap(client, { all: false, currentTemplates: [name] });
      for (const line of reaped.dropped) log(`reaped ${line}`);
      if (state === 'broken') for (const sql of dropTestDatabaseStatements(name, true)) await client.query(sql);
      const build = buildName(name);
      for (const sql of dropTestDatabaseStatements(build, false)) await client.query(sql);
      log(`building template ${name} from ${source.name}'s migrations, seeds and extensions`);
      const built = buildTarget(target, source, build);
      await runStepsPlain(DATABASE_STEPS, { config: built.config, target: built, reports: [] }, log);
      for (const sql of finishTemplateStatements(build, name, hash)) await client.query(sql);
      return { name, hash, serverMajor: major, built: true };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...TEMPLATE_LOCK]).catch(() => {});
    }
  });
}

let sequence = 0;

/** A new database cloned from `template`; its name carries this process's host and pid. */
export async function cloneTemplate(target: Target, template: Template, strategy: CloneStrategy | undefined): Promise<string> {
  const name = cloneName(HOST_TAG, process.pid, ++sequence, randomBytes(3).toString('hex'));
  await onSharedMaintenance(target, (client) => client.query(cloneStatement(name, template.name, strategy, template.serverMajor)));
  return name;
}

/** Drops a clone, ending any session still on it. */
export async function dropClone(target: Target, name: string): Promise<void> {
  await onSharedMaintenance(target, async (client) => {
    for (const sql of dropTestDatabaseStatements(name, false)) await client.query(sql);
  });
}

/** Marks a clone as kept for a failed test, so the reaper leaves it. */
export async function keepClone(target: Target, name: string): Promise<void> {
  await onSharedMaintenance(target, (client) => client.query(`COMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(`${KEPT_COMMENT} ${new Date().toISOString()}`)}`));
}

/** What a reaper run did and left. */
export interface ReapResult {
  dropped: string[];
  kept: Array<{ name: string; why: string }>;
}

const WHY: Record<string, string> = {
  'keep-alive': 'its process still runs',
  'keep-other-host': 'made on another host (or not by pgstrap): its process cannot be checked from here',
  'keep-kept': 'kept for a failed test (db:prune-test --all drops it)',
  'keep-current': 'the current template',
};

async function reap(client: pg.Client, options: { all: boolean; currentTemplates: readonly string[] }): Promise<ReapResult> {
  const { rows } = await client.query<{ datname: string; datistemplate: boolean; comment: string | null }>(
    `SELECT datname, datistemplate, shobj_description(oid, 'pg_database') AS comment FROM pg_database
      WHERE starts_with(datname, $1) OR starts_with(datname, $2) ORDER BY datname`,
    [CLONE_PREFIX, TEMPLATE_PREFIX],
  );
  const result: ReapResult = { dropped: [], kept: [] };
  for (const row of rows) {
    const verdict = judgeTestDatabase({ name: row.datname, comment: row.comment }, { host: HOST_TAG, isAlive: isProcessAlive, all: options.all, currentTemplates: options.currentTemplates });
    if (verdict !== 'drop') {
      result.kept.push({ name: row.datname, why: WHY[verdict]! });
      continue;
    }
    try {
      for (const sql of dropTestDatabaseStatements(row.datname, row.datistemplate)) await client.query(sql);
      result.dropped.push(row.datname);
    } catch (error) {
      // Another reaper dropped it first, or a build of an older checkout holds it: leave it to the next run.
      result.kept.push({ name: row.datname, why: `could not drop it: ${(error as Error).message}` });
    }
  }
  return result;
}

/** `db:prune-test`: drops clones of runs that are gone (with `all`: templates and kept clones too), under the template lock. */
export function pruneTestDatabases(target: Target, options: { all: boolean }): Promise<ReapResult> {
  return maintenance(target, async (client) => {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...TEMPLATE_LOCK]);
    try {
      const current = options.all ? [] : await currentTemplates(target, client);
      return await reap(client, { all: options.all, currentTemplates: current });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...TEMPLATE_LOCK]).catch(() => {});
    }
  });
}

/** The template names of the configured databases for the files as they are now. */
async function currentTemplates(target: Target, client: pg.Client): Promise<string[]> {
  const { versionNum } = toServerVersion((await client.query(SERVER_VERSION.text)).rows);
  return target.config.databases.map((db) => templateName(db.name, templateHash(readTemplateInputs(target, db, versionNum))));
}
