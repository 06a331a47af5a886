/** What the tracking table says against what is on disk: applied, pending and drifted migrations. */
import { compareVersions } from './naming.ts';
import type { MigrationSource } from './source.ts';

/** A row of the tracking table. */
export interface AppliedMigration {
  version: string;
  name: string;
  checksum: string;
  transactional: boolean;
  /** `running`: a non-transactional file started and has not finished (it is running, or it died half way). */
  state: 'applied' | 'running';
  statementsDone: number;
  statementsTotal: number;
  appliedAt: string;
  durationMs: number | null;
  appliedBy: string;
}

/** Why an applied migration no longer matches its file. */
export type Drift =
  | { kind: 'edited'; version: string; name: string; path: string; appliedChecksum: string; fileChecksum: string }
  | { kind: 'missing'; version: string; name: string; appliedChecksum: string }
  | { kind: 'half-applied'; version: string; name: string; statementsDone: number; statementsTotal: number; inProgress: boolean };

/** The state of one database's migrations. */
export interface MigrationPlan {
  /** Applied and unchanged, in version order. */
  applied: AppliedMigration[];
  /** On disk, never applied, in the order they will run. */
  pending: MigrationSource[];
  /** Edited since applied, applied but missing on disk, or stopped half way. */
  drifted: Drift[];
}

/**
 * Compares the history with the files. `inProgress`: another runner holds the lock, so a `running` row is
 * alive rather than dead.
 */
export function planMigrations(files: readonly MigrationSource[], history: readonly AppliedMigration[], inProgress = false): MigrationPlan {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const seen = new Set<string>();
  const applied: AppliedMigration[] = [];
  const drifted: Drift[] = [];
  for (const row of [...history].sort((a, b) => compareVersions(a.version, b.version))) {
    seen.add(row.version);
    const file = byVersion.get(row.version);
    const { version, name } = row;
    if (row.state === 'running') {
      drifted.push({ kind: 'half-applied', version, name, statementsDone: row.statementsDone, statementsTotal: row.statementsTotal, inProgress });
    } else if (!file) {
      drifted.push({ kind: 'missing', version, name, appliedChecksum: row.checksum });
    } else if (file.checksum !== row.checksum) {
      drifted.push({ kind: 'edited', version, name: file.name, path: file.path, appliedChecksum: row.checksum, fileChecksum: file.checksum });
    } else applied.push(row);
  }
  const pending = files.filter((f) => !seen.has(f.version)).sort((a, b) => compareVersions(a.version, b.version));
  return { applied, pending, drifted };
}

/** True when the database is up to date: nothing pending, nothing drifted. */
export function isUpToDate(plan: MigrationPlan): boolean {
  return plan.pending.length === 0 && plan.drifted.length === 0;
}

/** One line per drift, for messages and `migrate:status`. */
export function describeMigrationDrift(drift: Drift): string {
  switch (drift.kind) {
    case 'edited':
      return `${drift.path} was edited after it was applied (applied ${drift.appliedChecksum}, file now ${drift.fileChecksum})`;
    case 'missing':
      return `${drift.version}_${drift.name} was applied but its file is gone (applied ${drift.appliedChecksum})`;
    case 'half-applied':
      return drift.inProgress
        ? `${drift.version}_${drift.name} is running outside a transaction (${drift.statementsDone} of ${drift.statementsTotal} statements done)`
        : `${drift.version}_${drift.name} ran outside a transaction and stopped half way: ${drift.statementsDone} of ${drift.statementsTotal} statements done`;
  }
}
