/** The built-in runner for one database: status, migrate (under the lock), and revert of the last file. */
import type pg from 'pg';
import type { ResolvedDatabase } from '../config/types.ts';
import { driftDetected } from './errors.ts';
import { planMigrations, type AppliedMigration, type Drift, type MigrationPlan } from './plan.ts';
import { resolveDrift, type Resolutions } from './resolve.ts';
import { fileToRevert } from './revert.ts';
import type { MigrationSource } from './source.ts';
import { PipelineError, queryPipeline, withClient, type Sessions } from '../server/connection.ts';
import { connectionFor, migrationTarget, type Target } from '../server/target.ts';
import { applyMigration, applyTransactionalFiles, revertMigration } from './apply.ts';

/** At most this many transactional files share a round trip, so progress shows and a pipeline stays small. */
const BATCH_FILES = 50;
import { readMigrations } from './files.ts';
import { deleteHistory, ensureHistoryTable, markApplied, READ_HISTORY, readHistory, toAppliedMigrations } from './history.ts';
import { assertLockHolds, describeLockHolder, LOCK_HOLDER, TRY_LOCK, UNLOCK, withMigrationLock } from './lock.ts';

/** A file not applied yet, as status and plans show it. */
export interface PendingMigration {
  version: string;
  name: string;
  path: string;
  transactional: boolean;
  hasDown: boolean;
}

/** One database's migrations: what `migrate:status` prints and doctor checks. */
export interface DatabaseMigrationStatus {
  database: string;
  directory: string;
  /** False when the config hands migrations to the app's own command only. */
  builtIn: boolean;
  applied: AppliedMigration[];
  pending: PendingMigration[];
  drifted: Drift[];
}

/** What a migrate run did to one database. */
export interface MigrateResult {
  database: string;
  /** One line per file applied or drift accepted, e.g. `applied 20251025000040_create_llm_requests (12 ms)`. */
  changes: string[];
}

/** Flags of `npm run migrate`. */
export interface MigrateOptions extends Resolutions {
  lockTimeoutSeconds?: number | undefined;
  /** Progress lines. */
  log?: ((line: string) => void) | undefined;
  /** The run's sessions: the runner works on the database's session instead of opening its own. */
  sessions?: Sessions | undefined;
}

/**
 * Runs `fn` on the session of `database`: the run's, else one of its own. Migrations run on the target's
 * direct URL when it has one (never on the run's sessions, which go through the pooler).
 */
function onSession<T>(given: Target, database: string, sessions: Sessions | undefined, name: string, fn: (client: pg.Client, target: Target) => Promise<T>): Promise<T> {
  const target = migrationTarget(given);
  if (sessions && target === given) return sessions.with(database, (client) => fn(client, target));
  return withClient({ ...connectionFor(target, database), application_name: name }, (client) => fn(client, target));
}

/** Refuses a session the lock would not hold on (PgBouncer in transaction mode), releasing what the first look took. */
async function assertLockHoldsOn(client: pg.Client, target: Target, database: string, look: { pid: number | undefined; held: boolean }): Promise<void> {
  // A managed cluster is reached directly; a direct URL is the user's word.
  if (target.kind !== 'external' || target.pinned) return;
  try {
    await assertLockHolds(client, connectionFor(target, database), database, look.pid);
  } catch (error) {
    if (look.held) await client.query(UNLOCK.text, UNLOCK.values as unknown[]).catch(() => {});
    throw error;
  }
}

/** What one round trip learns: whether the lock was free, and the history read under it (undefined: no table yet). */
interface FirstLook {
  locked: boolean;
  /** The session's backend pid. */
  pid: number | undefined;
  /** True when the lock is still held (the table was missing, so the release did not run). */
  held: boolean;
  history: AppliedMigration[] | undefined;
}

/** The history in one round trip, or undefined when the tracking table does not exist. */
async function readHistoryIfAny(client: pg.Client): Promise<AppliedMigration[] | undefined> {
  try {
    const [rows] = await queryPipeline(client, [READ_HISTORY]);
    return toAppliedMigrations(rows!);
  } catch (error) {
    if (error instanceof PipelineError && (error.serverError as { code?: string }).code === '42P01') return undefined;
    throw error;
  }
}

/** Takes the lock, reads the history and lets the lock go again, in one round trip. */
async function firstLook(client: pg.Client): Promise<FirstLook> {
  try {
    const [lock, rows] = await queryPipeline(client, [TRY_LOCK, READ_HISTORY, UNLOCK]);
    const locked = lock![0]?.ok === true;
    return { locked, pid: lock![0]?.pid as number | undefined, held: false, history: locked ? toAppliedMigrations(rows!) : undefined };
  } catch (error) {
    // No tracking table yet: the read failed after the lock was taken, so the release never ran.
    if (!(error instanceof PipelineError) || error.index !== 1 || (error.serverError as { code?: string }).code !== '42P01') throw error;
    const locked = error.results[0]![0]?.ok === true;
    return { locked, pid: error.results[0]![0]?.pid as number | undefined, held: locked, history: undefined };
  }
}

/** A pending file as status shows it. */
function toPending(source: MigrationSource): PendingMigration {
  const { version, name, path, transactional } = source;
  return { version, name, path, transactional, hasDown: (source.down?.length ?? 0) > 0 };
}

/** The files of `db`, or none when the config hands migrations to a command only. */
function filesOf(target: Target, db: ResolvedDatabase): MigrationSource[] {
  return db.migrations.builtIn ? readMigrations(db.migrations, target.config.projectDir) : [];
}

/** One database's plan, read on a connection the caller already holds (doctor reuses its own). */
export async function readMigrationPlan(client: pg.Client, db: ResolvedDatabase, projectDir: string): Promise<MigrationPlan> {
  // With the built-in runner off, rows it left from before are history, not files gone missing.
  if (!db.migrations.builtIn) return { applied: [], pending: [], drifted: [] };
  const files = readMigrations(db.migrations, projectDir);
  // One round trip: who holds the lock, then the history (missing before the first migration).
  let results;
  try {
    results = await queryPipeline(client, [LOCK_HOLDER, READ_HISTORY]);
  } catch (error) {
    if (!(error instanceof PipelineError) || error.index !== 1 || error.code !== '42P01') throw error;
    results = [error.results[0]!, []];
  }
  return planMigrations(files, toAppliedMigrations(results[1]!), describeLockHolder(results[0]!) !== undefined);
}

/** Reads one database's plan without changing anything (no lock, no tracking table created). */
export async function planDatabase(target: Target, db: ResolvedDatabase): Promise<MigrationPlan> {
  return withClient(connectionFor(target, db.name), (client) => readMigrationPlan(client, db, target.config.projectDir));
}

/** Per database: applied, pending and drifted migrations. Read-only; doctor and `migrate:status` use it. */
export async function getMigrationStatus(target: Target, databases: readonly ResolvedDatabase[] = target.databases): Promise<DatabaseMigrationStatus[]> {
  const result: DatabaseMigrationStatus[] = [];
  for (const db of databases) {
    const plan = await planDatabase(target, db);
    result.push({
      database: db.name,
      directory: db.migrations.directory,
      builtIn: db.migrations.builtIn,
      applied: plan.applied,
      pending: plan.pending.map(toPending),
      drifted: plan.drifted,
    });
  }
  return result;
}

/** Records accepted drift: a file as it is now, or forgets one that is gone. */
async function acceptDrift(client: pg.Client, drift: Drift, file: MigrationSource | undefined): Promise<string> {
  if (!file) {
    await deleteHistory(client, drift.version);
    return `forgot ${drift.version}_${drift.name}: its file is gone`;
  }
  await markApplied(client, file, null);
  return drift.kind === 'edited'
    ? `accepted the edit of ${file.fileName} (checksum ${drift.appliedChecksum.slice(0, 12)}… → ${drift.fileChecksum.slice(0, 12)}…)`
    : `accepted ${file.fileName} as applied (it had stopped half way)`;
}

/**
 * Applies the pending migrations of one database in version order, each in its own transaction, under the
 * migration lock. Drift stops the run before anything is applied, unless accepted or retried.
 */
export async function migrateDatabase(target: Target, db: ResolvedDatabase, options: MigrateOptions = {}): Promise<MigrateResult> {
  const files = filesOf(target, db);
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const log = options.log ?? (() => {});
  const lockOptions = { timeoutSeconds: options.lockTimeoutSeconds, onWait: (holder: string | undefined) => log(`${db.name}: waiting for another migration runner${holder ? ` (${holder})` : ''}`) };
  return onSession(target, db.name, options.sessions, 'pgstrap migrate', async (client, on) => {
    // The common case, nothing to do, costs one round trip: the history as it was under the lock.
    const look = await firstLook(client);
    if (look.locked && !look.held) {
      const plan = planMigrations(files, look.history!);
      const { accept, retry, remaining } = resolveDrift(plan.drifted, options);
      if (remaining.length > 0) throw driftDetected(db.name, remaining);
      if (plan.pending.length === 0 && accept.length === 0 && retry.length === 0) return { database: db.name, changes: [] };
    }
    // No files and no history: nothing to track, so no tracking schema appears in the database either.
    if (look.locked && look.history === undefined && files.length === 0) {
      await client.query(UNLOCK.text, UNLOCK.values as unknown[]);
      return { database: db.name, changes: [] };
    }
    // Something to apply: only now does it matter that the lock holds (nothing to do never writes).
    await assertLockHoldsOn(client, on, db.name, look);
    return withMigrationLock(client, db.name, { ...lockOptions, held: look.held }, async () => {
      // Read after taking the lock: a runner that waited sees what the other one applied.
      let history = look.held ? undefined : await readHistoryIfAny(client);
      if (history === undefined) {
        if (files.length === 0) return { database: db.name, changes: [] };
        await ensureHistoryTable(client, db.name);
        history = [];
      }
      const plan = planMigrations(files, history);
      const { accept, retry, remaining } = resolveDrift(plan.drifted, options);
      if (remaining.length > 0) throw driftDetected(db.name, remaining);
      const changes: string[] = [];
      for (const drift of accept) changes.push(await acceptDrift(client, drift, byVersion.get(drift.version)));
      for (const drift of retry) {
        const file = byVersion.get(drift.version);
        if (!file || drift.kind !== 'half-applied') continue;
        log(`${db.name}: retrying ${file.fileName} from statement ${drift.statementsDone + 1}`);
        const ms = await applyMigration(client, file, db.name, { resumeFrom: drift.statementsDone });
        changes.push(`finished ${file.fileName} on ${db.name} (${ms} ms)`);
      }
      // Commits skip the WAL flush until the last file, whose flushing commit makes every earlier one durable
      // (WAL is flushed in order). A crash before it can only lose a suffix of files, each together with its
      // tracking row, so they show as pending again. It saves one disk flush per file.
      const { pending } = plan;
      for (let i = 0; i < pending.length; ) {
        const file = pending[i]!;
        if (!file.transactional) {
          log(`${db.name}: applying ${file.fileName}`);
          const ms = await applyMigration(client, file, db.name);
          changes.push(`applied ${file.fileName} to ${db.name} (${ms} ms)`);
          i += 1;
          continue;
        }
        // Consecutive transactional files travel together: one round trip for up to BATCH_FILES of them.
        let end = i;
        while (end < pending.length && pending[end]!.transactional && end - i < BATCH_FILES) end += 1;
        const batch = pending.slice(i, end);
        for (const f of batch) log(`${db.name}: applying ${f.fileName}`);
        const first = i;
        const durations = await applyTransactionalFiles(client, batch, db.name, (k) => first + k < pending.length - 1);
        batch.forEach((f, k) => changes.push(`applied ${f.fileName} to ${db.name} (${durations[k]} ms)`));
        i = end;
      }
      return { database: db.name, changes };
    });
  });
}

/** The file `migrate:down` would revert in `db` (none when nothing is applied); throws when it cannot. */
export async function planRevert(target: Target, db: ResolvedDatabase): Promise<MigrationSource | undefined> {
  const files = filesOf(target, db);
  return withClient(connectionFor(target, db.name), async (client) => fileToRevert(db.name, planMigrations(files, await readHistory(client)), files));
}

/** Reverts the last applied migration of `db` with its down section, under the lock. */
export async function revertLast(target: Target, db: ResolvedDatabase, options: MigrateOptions = {}): Promise<MigrateResult> {
  const files = filesOf(target, db);
  return onSession(target, db.name, options.sessions, 'pgstrap migrate:down', async (client, on) => {
    await assertLockHoldsOn(client, on, db.name, { pid: undefined, held: false });
    return withMigrationLock(client, db.name, { timeoutSeconds: options.lockTimeoutSeconds }, async () => {
      const file = fileToRevert(db.name, planMigrations(files, await readHistory(client)), files);
      if (!file) return { database: db.name, changes: [] };
      options.log?.(`${db.name}: reverting ${file.fileName}`);
      const ms = await revertMigration(client, file, db.name);
      return { database: db.name, changes: [`reverted ${file.fileName} on ${db.name} (${ms} ms)`] };
    });
  });
}
