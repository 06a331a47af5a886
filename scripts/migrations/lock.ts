/**
 * The migration lock: a session-level advisory lock, held by the session that applies the files (so it
 * lasts as long as that session, and dies with it), taken by polling pg_try_advisory_lock. It holds only
 * where a client session is one server session: behind PgBouncer in transaction mode the runner refuses
 * (assertLockHolds) unless the migrations have a direct URL. A blocking
 * pg_advisory_lock waiter would deadlock with CREATE INDEX CONCURRENTLY in the holder (the index build
 * waits for every transaction, the waiter's included: 40P01 on PostgreSQL 17).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { lockTimeout } from './errors.ts';
import { announcedPid, queryPipeline, withClient, type ConnectionTarget, type PipelinedStatement } from '../server/connection.ts';
import { describeUnpinnedSessions, POOLED_REMEDY } from '../server/pooling.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';

/** The two 32-bit keys of the lock, 'pgst' and 'migr'; advisory locks are per database already. */
export const MIGRATION_LOCK = { classid: 0x70677374, objid: 0x6d696772 } as const;

/** Takes the lock if it is free; answers `ok`, and the session's backend `pid` (for assertLockHolds). */
export const TRY_LOCK: PipelinedStatement = { text: 'SELECT pg_try_advisory_lock($1, $2) AS ok, pg_backend_pid() AS pid', values: [MIGRATION_LOCK.classid, MIGRATION_LOCK.objid] };
/** Releases the lock. */
export const UNLOCK: PipelinedStatement = { text: 'SELECT pg_advisory_unlock($1, $2)', values: [MIGRATION_LOCK.classid, MIGRATION_LOCK.objid] };

/** Default wait for another runner, in seconds: long enough for a slow migration, short enough for CI. */
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 300;

/** Options for waiting on the lock. */
export interface LockOptions {
  timeoutSeconds?: number | undefined;
  /** Called once when another runner holds the lock. */
  onWait?: (holder: string | undefined) => void;
}

/** Reads who holds the lock; describeLockHolder turns its rows into words. */
export const LOCK_HOLDER: PipelinedStatement = {
  text: `SELECT l.pid, a.usename, a.application_name, a.backend_start AS since
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2`,
  values: [MIGRATION_LOCK.classid, MIGRATION_LOCK.objid],
};

/** Who holds the lock (`pid N, user@application since T`), if anyone. */
export async function lockHolder(client: pg.Client): Promise<string | undefined> {
  return describeLockHolder((await client.query(LOCK_HOLDER.text, [...LOCK_HOLDER.values!])).rows);
}

/** The holder LOCK_HOLDER's rows name, if any. */
export function describeLockHolder(rows: readonly Record<string, unknown>[]): string | undefined {
  const row = rows[0] as { pid: number; usename: string | null; since: Date | null } | undefined;
  if (!row) return undefined;
  return `server pid ${row.pid}${row.usename ? `, role ${row.usename}` : ''}${row.since ? `, connected since ${row.since.toISOString()}` : ''}`;
}

/**
 * Holds the migration lock of `client`'s database while `fn` runs on that same session; released in
 * finally (and by the server if the session dies). `held` says the caller took it already.
 */
export async function withMigrationLock<T>(client: pg.Client, database: string, options: LockOptions & { held?: boolean }, fn: () => Promise<T>): Promise<T> {
  if (!options.held) await takeMigrationLock(client, database, options);
  try {
    return await fn();
  } finally {
    // Closing the session would release it too; a shared session lives on, so it is released here, and
    // what the files SET for the session is reset for the steps that use it next.
    await queryPipeline(client, [UNLOCK, { text: 'RESET ALL' }]).catch(() => {});
  }
}

/** Polls pg_try_advisory_lock until the lock is this session's, or throws `migrate.lock-timeout`. */
async function takeMigrationLock(client: pg.Client, database: string, options: LockOptions): Promise<void> {
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_LOCK_TIMEOUT_SECONDS;
  const deadline = Date.now() + timeoutSeconds * 1000;
  let delay = 50;
  let told = false;
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>(TRY_LOCK.text, TRY_LOCK.values as unknown[]);
    if (rows[0]?.ok) return;
    if (!told) {
      options.onWait?.(await lockHolder(client));
      told = true;
    }
    if (Date.now() >= deadline) throw lockTimeout(database, timeoutSeconds, await lockHolder(client));
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 500);
  }
}

const BACKEND_PID = 'SELECT pg_backend_pid() AS pid';

/**
 * Throws `migrate.pooled-connection` when `client`'s sessions are not pinned to one server backend (PgBouncer
 * in transaction pooling): the lock would not hold there. `other` opens a second session to the same URL;
 * `backendPid` is the session's pid if the caller read it already (TRY_LOCK does). See server/pooling.ts.
 *
 * A direct connection costs nothing more: the pid the server announced at connect (BackendKeyData) is its
 * backend's, while a pooler announces one of its own, so only then are the sessions probed.
 */
export async function assertLockHolds(client: pg.Client, other: ConnectionTarget, database: string, backendPid?: number): Promise<void> {
  const why = await probeUnpinnedSessions(client, other, backendPid);
  if (why === undefined) return;
  throw new PgstrapError({
    code: 'migrate.pooled-connection',
    message: `the URL for ${database} goes through a connection pooler that does not keep a session on one server connection (PgBouncer in transaction mode): ${why}, so the migration lock (a session advisory lock) would not hold`,
    details: ['Nothing was applied. setup, verify, doctor and migrate:status work through the pooler; only migrations need the server itself.'],
    remedy: POOLED_REMEDY,
    exit: ExitCode.environment,
  });
}

/**
 * Why `client`'s sessions are not pinned to one server backend, or undefined when they are: nothing more is
 * asked when the pid announced at connect is the backend's (`backendPid`, read here if not given); else the
 * backend pids of `client`, of a second session to `other`, and of `client` again (server/pooling.ts).
 */
export async function probeUnpinnedSessions(client: pg.Client, other: ConnectionTarget, backendPid?: number): Promise<string | undefined> {
  const pid = async (c: pg.Client) => Number((await c.query<{ pid: number }>(BACKEND_PID)).rows[0]!.pid);
  const first = backendPid ?? (await pid(client));
  if (announcedPid(client) === first) return undefined;
  return withClient(other, async (second) => {
    const otherPid = await pid(second);
    return describeUnpinnedSessions({ first, other: otherPid, again: await pid(client) });
  });
}
