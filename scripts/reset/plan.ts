/** What `db:reset` may drop (pure): only databases the config names, and on an external server only those typed back. */
import type { ResolvedDatabase } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { dropDatabaseStatement } from '../databases/plan.ts';

/** The facts the decision needs. */
export interface ResetTarget {
  kind: 'system' | 'embedded' | 'external';
  /** External only: the URL names a database, so pgstrap is connected to the one it would drop. */
  urlNamesDatabase: boolean;
  configured: readonly string[];
}

/**
 * Checks that `databases` may be dropped: each is configured; on an external server the URL names none
 * and each was typed back with `--yes-drop NAME`. Returns the names; throws a usage error otherwise.
 */
export function planReset(target: ResetTarget, databases: readonly ResolvedDatabase[], yesDrop: readonly string[] = []): string[] {
  const names = databases.map((d) => d.name);
  const foreign = names.filter((n) => !target.configured.includes(n));
  if (foreign.length > 0) {
    throw new PgstrapError({
      code: 'reset.not-configured',
      message: `db:reset drops only databases the config names; ${foreign.join(', ')} is not one of ${target.configured.join(', ')}`,
      remedy: 'Add it to databases in the config, or name a configured one with --database.',
      exit: ExitCode.usage,
    });
  }
  if (target.kind !== 'external') return names;
  if (target.urlNamesDatabase) {
    throw new PgstrapError({
      code: 'reset.url-names-database',
      message: `the URL names database ${names[0]}: db:reset would have to drop the database it is connected to`,
      remedy: 'Pass a URL without a database (postgresql://user@host:5432) of a role that may create databases, and --yes-drop with the name.',
      exit: ExitCode.usage,
    });
  }
  const untyped = names.filter((n) => !yesDrop.includes(n));
  if (untyped.length > 0) {
    throw new PgstrapError({
      code: 'reset.external-needs-confirmation',
      message: `db:reset on an external server drops ${untyped.join(', ')} and every row in it: it needs the name typed back`,
      remedy: `Run it again with ${untyped.map((n) => `--yes-drop ${n}`).join(' ')} (and --database NAME to reset one only).`,
      exit: ExitCode.usage,
    });
  }
  return names;
}

/** The statements that list a database's other sessions and drop it (PostgreSQL 13+: WITH (FORCE) ends them). */
export function dropStatements(name: string): { countOthers: { text: string; values: string[] }; drop: string } {
  return {
    countOthers: { text: 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', values: [name] },
    drop: dropDatabaseStatement(name, { force: true }),
  };
}

/** `dropped database app (ended 2 other sessions)`. */
export function describeDrop(name: string, existed: boolean, others: number): string {
  if (!existed) return `database ${name} did not exist`;
  const ended = others === 0 ? 'no other session was connected' : `ended ${others} other session${others === 1 ? '' : 's'} on it first`;
  return `dropped database ${name} (${ended})`;
}
