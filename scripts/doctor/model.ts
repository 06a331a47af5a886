/**
 * The doctor's check model: what one check reports, how checks add up to a verdict, and which setup
 * steps may repair them. Pure: the checks are computed from observed facts in the sibling modules.
 */

/** `ok`: healthy; `warn`: works, with a caveat worth fixing; `fail`: broken. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/**
 * Where a check is shown: `toolchain`, `config`, `cluster`, `connectivity`, `external`, or
 * `database:<name>` for the checks of one database.
 */
export type CheckGroup = string;

/**
 * A fix `--fix` may apply because it changes nothing a person made: start the cluster, create databases,
 * enable extensions, create uuidv7(), apply pending migrations, tighten file permissions, regenerate the
 * flake's extension list (a generated file).
 */
export type Repair = 'flake' | 'permissions' | 'start' | 'databases' | 'extensions' | 'uuidv7' | 'migrations';

/** One line of the doctor's report. */
export interface Check {
  /** Stable identifier, e.g. `cluster.running`, `db.app.extension.vector`. */
  id: string;
  group: CheckGroup;
  status: CheckStatus;
  /** One sentence: what was found. */
  message: string;
  /** The exact command (or edit) that makes the check pass; undefined when it passes or nothing can be run. */
  fix: string | undefined;
  /** Supporting lines: the log's last errors, each config problem. */
  details: string[];
  /** Set when `--fix` may apply this fix itself. */
  repair: Repair | undefined;
}

/** Builds a check; `fix` and `repair` are dropped on `ok`, where there is nothing to fix. */
export function check(
  id: string,
  group: CheckGroup,
  status: CheckStatus,
  message: string,
  extra: { fix?: string | undefined; details?: string[]; repair?: Repair | undefined } = {},
): Check {
  const healthy = status === 'ok';
  return {
    id,
    group,
    status,
    message,
    fix: healthy ? undefined : extra.fix,
    details: extra.details ?? [],
    repair: healthy ? undefined : extra.repair,
  };
}

/** The fixed groups, in display order; database groups follow the cluster's, external comes last. */
export const GROUP_TITLES: Record<string, string> = {
  toolchain: 'Toolchain',
  config: 'Config',
  cluster: 'Cluster',
  connectivity: 'Connectivity and auth',
  external: 'External server',
};

/** The group of a database's checks. */
export function databaseGroup(name: string): CheckGroup {
  return `database:${name}`;
}

/** The heading a group is shown under. */
export function groupTitle(group: CheckGroup): string {
  if (group.startsWith('database:')) return `Database ${group.slice('database:'.length)}`;
  return GROUP_TITLES[group] ?? group;
}

/** Counts by status, and the exit code they imply. */
export interface DoctorSummary {
  ok: number;
  warn: number;
  fail: number;
  /** Checks that were not run, and why (e.g. the database checks while the cluster is down). */
  skipped: string[];
  /** Healthy: no failure (and, with --strict, no warning). */
  healthy: boolean;
  /** 0 healthy, 1 otherwise. */
  exit: 0 | 1;
}

/** Adds up checks; `strict` makes warnings count as failures. */
export function summarise(checks: readonly Check[], skipped: string[], strict: boolean): DoctorSummary {
  const count = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  const ok = count('ok');
  const warn = count('warn');
  const fail = count('fail');
  const healthy = fail === 0 && (!strict || warn === 0);
  return { ok, warn, fail, skipped, healthy, exit: healthy ? 0 : 1 };
}

/** The closing line, e.g. `Doctor: 14 ok, 1 warning, 2 failed; npm run doctor -- --fix applies 2 fixes.` */
export function summaryText(summary: DoctorSummary, checks: readonly Check[], strict: boolean): string {
  const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
  const parts = [`${summary.ok} ok`, plural(summary.warn, 'warning'), `${summary.fail} failed`];
  const repairable = checks.filter((c) => c.repair !== undefined).length;
  const verdict = summary.healthy
    ? summary.warn > 0
      ? 'healthy, with warnings'
      : 'healthy'
    : strict && summary.fail === 0
      ? 'warnings fail under --strict'
      : 'problems found';
  const tail = repairable > 0 ? `; npm run doctor -- --fix applies ${plural(repairable, 'safe fix', 'safe fixes')}` : '';
  return `Doctor: ${parts.join(', ')} (${verdict})${tail}.`;
}

/** The distinct repairs the checks ask for, in a stable order. */
export function repairsOf(checks: readonly Check[]): Repair[] {
  const order: Repair[] = ['flake', 'permissions', 'start', 'databases', 'extensions', 'uuidv7', 'migrations'];
  const wanted = new Set(checks.map((c) => c.repair).filter((r): r is Repair => r !== undefined));
  return order.filter((r) => wanted.has(r));
}
