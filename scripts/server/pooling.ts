/**
 * Whether a URL's sessions are pinned to one server backend each, judged from pg_backend_pid() (pure).
 *
 * The migration lock is a session advisory lock: it holds only while one client session is one server
 * session. Through PgBouncer in transaction (or statement) pooling, each transaction may run on another
 * server connection, and two clients may share one: the lock stays behind on a server connection that
 * the next client gets, and advisory locks are re-entrant there, so a second migrator would "take" it too.
 *
 * The probe asks, on the session that would hold the lock and on a second session opened beside it:
 * the session's backend pid, the other session's, then the session's again. On a direct connection a
 * session keeps one backend for its life and two open sessions never share one, so either sign proves a
 * pooler that does not pin sessions; there are no false alarms. PgBouncer hands the most recently freed
 * server connection to the next transaction, so the second session gets the first one's backend: the
 * sign shows on an idle pool every time. (`SHOW` commands are forwarded to the server, the server's port
 * and version are the server's own, and application_name is tracked per client by PgBouncer: none of them
 * tells.) Session pooling pins sessions, passes the probe, and the lock holds there.
 */
export interface BackendPids {
  /** The session's backend, first. */
  first: number;
  /** A second session's backend, opened while the first is open. */
  other: number;
  /** The session's backend, again. */
  again: number;
}

/** Why the sessions are not pinned to their backends, or undefined when they are. */
export function describeUnpinnedSessions(pids: BackendPids): string | undefined {
  if (pids.other === pids.first) return `two open sessions ran on the same server backend (pid ${pids.first})`;
  if (pids.again !== pids.first) return `one session moved from server backend pid ${pids.first} to pid ${pids.again} between two statements`;
  return undefined;
}

/** What to do when the migrations' URL goes through transaction pooling. */
export const POOLED_REMEDY =
  "Give the migrations a direct URL to the server (as Prisma's directUrl): directUrl: { env: 'DIRECT_DATABASE_URL' } in the config's target and --target NAME, or --direct-url URL (PGSTRAP_DIRECT_URL) beside --url. PgBouncer in session mode works too.";
