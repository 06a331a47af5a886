/** The built-in runner for one database: status, migrate (under the lock), and revert of the last file. */
import type pg from 'pg';
import type { ResolvedDatabase } from '../core/config/types.ts';
import { driftDetected } from '../core/migrations/errors.ts';
import { planMigrations, type AppliedMigration, type Drift, type MigrationPlan } from '../core/migrations/plan.ts';
import { resolveDrift, type Resolutions } from '../core/migrations/resolve.ts';
import { fileToRevert } from '../core/migrations/revert.ts';
import type { MigrationSource } from '../core/migrations/source.ts';
import { withClient } from '../db/client.ts';
import { connectionFor, type Target } from '../engines/target.ts';
import { applyMigration, revertMigration } from './apply.ts';
import { readMigrations } from './files.ts';
import { deleteHistory, ensureHistoryTable, historyExists, readHistory, markApplied } from './history.ts';
import { lockHolder, withMigrationLock } from './lock.ts';

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
  return planMigrations(files, await readHistory(client), (await lockHolder(client)) !== undefined);
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
  const connection = connectionFor(target, db.name);
  const lockOptions = { timeoutSeconds: options.lockTimeoutSeconds, onWait: (holder: string | undefined) => log(`${db.name}: waiting for another migration runner${holder ? ` (${holder})` : ''}`) };
  return withMigrationLock(connection, db.name, lockOptions, () =>
    withClient({ ...connection, application_name: 'pgstrap migrate' }, async (client) => {
      // No files and no history: nothing to track, so no tracking schema appears in the database either.
      if (files.length === 0 && !(await historyExists(client))) return { database: db.name, changes: [] };
      await ensureHistoryTable(client, db.name);
      // Read after taking the lock: a runner that waited sees what the other one applied.
      const plan = planMigrations(files, await readHistory(client));
      const { accept, retry, remaining } = resolveDrift(plan.drifted, options);
      if (remaining.length > 0) throw driftDetected(db.name, remaining);
      const changes: string[] = [];
      for (const drift of accept) changes.push(await acceptDrift(client, drift, byVersion.get(drift.version)));
      for (const drift of retry) {
        const file = byVersion.get(drift.version);
        if (!file || drift.kind !== 'half-applied') continue;
        log(`${db.name}: retrying ${file.fileName} from statement ${drift.statementsDone + 1}`);
        const ms = await applyMigration(client, file, db.name, drift.statementsDone);
        changes.push(`finished ${file.fileName} on ${db.name} (${ms} ms)`);
      }
      // Commits skip the WAL flush until the last file, whose flushing commit makes every earlier one durable
      // (WAL is flushed in order). A crash before it can only lose a suffix of files, each together with its
      // tracking row, so they show as pending again. It saves one disk flush per file.
      const batched = plan.pending.length > 1;
      if (batched) await client.query('SET synchronous_commit TO off');
      for (const [i, file] of plan.pending.entries()) {
        if (batched && i === plan.pending.length - 1) await client.query('RESET synchronous_commit');
        log(`${db.name}: applying ${file.fileName}`);
        const ms = await applyMigration(client, file, db.name);
        changes.push(`applied ${file.fileName} to ${db.name} (${ms} ms)`);
      }
      return { database: db.name, changes };
    }),
  );
}

/** The file `migrate:down` would revert in `db` (none when nothing is applied); throws when it cannot. */
export async function planRevert(target: Target, db: ResolvedDatabase): Promise<MigrationSource | undefined> {
  const files = filesOf(target, db);
  return withClient(connectionFor(target, db.name), async (client) => fileToRevert(db.name, planMigrations(files, await readHistory(client)), files));
}

/** Reverts the last applied migration of `db` with its down section, under the lock. */
export async function revertLast(target: Target, db: ResolvedDatabase, options: MigrateOptions = {}): Promise<MigrateResult> {
  const files = filesOf(target, db);
  const connection = connectionFor(target, db.name);
  return withMigrationLock(connection, db.name, { timeoutSeconds: options.lockTimeoutSeconds }, () =>
    withClient({ ...connection, application_name: 'pgstrap migrate:down' }, async (client) => {
      const file = fileToRevert(db.name, planMigrations(files, await readHistory(client)), files);
      if (!file) return { database: db.name, changes: [] };
      options.log?.(`${db.name}: reverting ${file.fileName}`);
      const ms = await revertMigration(client, file, db.name);
      return { database: db.name, changes: [`reverted ${file.fileName} on ${db.name} (${ms} ms)`] };
    }),
  );
}
