/** What the migrate commands print: the dry-run plan and the status table, from plain data. */
import path from 'node:path';
import type { Drift } from './plan.ts';
import { describeMigrationDrift } from './plan.ts';
import { resolveDrift, type Resolutions } from './resolve.ts';
import { displayCommand } from './errors.ts';
import type { DatabaseMigrationStatus } from './runner.ts';

/** What the app's own migrator says about one database, when the config names its status command. */
export interface AppMigratorStatus {
  command: string;
  statusCommand: string | null;
  /** The status command's exit code (0: up to date); null when there is none or it could not start. */
  exitCode: number | null;
  upToDate: boolean | null;
  output: string[];
}

/** One database's dry run: the drift the flags resolve, what still blocks, and the app's command after. */
export interface DryRunPlan {
  status: DatabaseMigrationStatus;
  accept: Drift[];
  retry: Drift[];
  remaining: Drift[];
  command: readonly string[] | undefined;
}

/** The dry run of each database, given the flags. */
export function planDryRun(statuses: readonly DatabaseMigrationStatus[], databases: readonly { name: string; migrations: { command?: readonly string[] | undefined } }[], flags: Resolutions): DryRunPlan[] {
  return statuses.map((s) => {
    const { accept, retry, remaining } = resolveDrift(s.drifted, flags);
    const db = databases.find((d) => d.name === s.database)!;
    return { status: s, accept, retry, remaining, command: db.migrations.command };
  });
}

/** The dry run's databases, as --json prints them. */
export function dryRunJson(plans: readonly DryRunPlan[]): unknown[] {
  return plans.map((p) => ({
    database: p.status.database,
    accept: p.accept,
    retry: p.retry,
    blockedBy: p.remaining,
    pending: p.status.pending,
    command: p.command === undefined ? null : displayCommand(p.command),
  }));
}

/** The dry run's lines, per database. */
export function renderDryRun(plans: readonly DryRunPlan[]): string[] {
  const out: string[] = [];
  for (const p of plans) {
    const db = p.status.database;
    for (const d of p.accept) out.push(`${db}: would accept ${describeMigrationDrift(d)}`);
    for (const d of p.retry) out.push(`${db}: would retry ${d.version}_${d.name} from statement ${d.kind === 'half-applied' ? d.statementsDone + 1 : 1}`);
    if (p.remaining.length > 0) {
      out.push(`${db}: would stop before applying anything:`, ...p.remaining.map((d) => `  ${describeMigrationDrift(d)}`));
      continue;
    }
    if (p.status.pending.length === 0) out.push(`${db}: no pending migration`);
    else out.push(`${db}: would apply ${p.status.pending.length} migration${p.status.pending.length === 1 ? '' : 's'}, in this order:`);
    for (const m of p.status.pending) out.push(`  ${m.path}${m.transactional ? '' : ' (no transaction: one statement at a time)'}`);
    if (p.command !== undefined) out.push(`${db}: then would run \`${displayCommand(p.command)}\``);
  }
  return out;
}

/** Whether pgstrap's runner and the app's own migrator are up to date (null: the app's state is unknown). */
export interface StatusSummary {
  builtInUpToDate: boolean;
  appFailed: boolean;
  appUnknown: boolean;
  anyApp: boolean;
  upToDate: boolean;
}

export function summariseStatus(statuses: readonly DatabaseMigrationStatus[], apps: readonly (AppMigratorStatus | undefined)[]): StatusSummary {
  const builtInUpToDate = statuses.every((s) => s.pending.length === 0 && s.drifted.length === 0);
  const appFailed = apps.some((a) => a?.upToDate === false);
  const appUnknown = apps.some((a) => a !== undefined && a.upToDate === null);
  return { builtInUpToDate, appFailed, appUnknown, anyApp: apps.some((a) => a !== undefined), upToDate: builtInUpToDate && !appFailed };
}

/** Column-aligned rows. */
function table(rows: string[][]): string[] {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd());
}

/** migrate:status's lines: each database's applied, drifted and pending files, the app's migrator, and a verdict. */
export function renderStatus(
  statuses: readonly DatabaseMigrationStatus[],
  appOf: (database: string) => AppMigratorStatus | undefined,
  summary: StatusSummary,
  projectDir: string,
): string[] {
  const out: string[] = [];
  for (const s of statuses) {
    const directory = path.relative(projectDir, s.directory) || '.';
    if (s.builtIn) {
      out.push(`${s.database} (${directory}/): ${s.applied.length} applied, ${s.pending.length} pending, ${s.drifted.length} drifted`);
      const rows = [
        ...s.applied.map((m) => ['applied', m.version, m.name, `${m.appliedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}  ${m.durationMs ?? '?'} ms  ${m.appliedBy}`]),
        ...s.drifted.map((d) => ['drifted', d.version, d.name, describeMigrationDrift(d)]),
        ...s.pending.map((m) => ['pending', m.version, m.name, m.transactional ? '' : 'no transaction']),
      ];
      out.push(...table(rows));
    } else out.push(`${s.database}: the built-in runner is off`);
    const app = appOf(s.database);
    if (app === undefined) continue;
    out.push(`${s.database}: migrations.command runs \`${app.command}\`; pgstrap cannot see what it has applied`);
    if (app.statusCommand === null) {
      out.push(`${s.database}: set migrations.statusCommand to its status command, so that migrate:status runs it and exits 6 when it fails`);
      continue;
    }
    out.push(`${s.database}: \`${app.statusCommand}\` (migrations.statusCommand) ${app.upToDate ? 'exited 0: up to date' : `ended with ${app.exitCode === null ? 'an error' : `exit code ${app.exitCode}`}: not up to date`}`);
    out.push(...app.output.map((l) => `  ${l}`));
  }
  const ours = statuses.some((s) => s.builtIn) ? "pgstrap's migrations are up to date" : 'pgstrap runs no migrations here';
  out.push(
    !summary.builtInUpToDate ? 'Not up to date: `npm run migrate` applies what is pending; drift is explained above.'
    : summary.appFailed ? "Not up to date: the app's own migrator says so above; `npm run migrate` runs migrations.command."
    : summary.appUnknown ? `${ours}; the app's own migrator's state is unknown (no migrations.statusCommand).`
    : summary.anyApp ? "Up to date: pgstrap's runner and the app's own migrator's status command agree."
    : 'Up to date.',
  );
  return out;
}
