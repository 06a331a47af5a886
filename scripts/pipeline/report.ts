/** What each pipeline step found and did: shown live, summarised at the end, printed by --json. */

/** `changed`: it applied something; `unchanged`: nothing to do; `skipped`: not applicable here; `warning`: done, with a caveat. */
export type StepStatus = 'changed' | 'unchanged' | 'skipped' | 'warning';

/** The outcome of one step. */
export interface StepReport {
  id: string;
  title: string;
  status: StepStatus;
  /** What was applied, one line each (empty when nothing changed). */
  changes: string[];
  /** Facts worth knowing that are not changes: a missing optional extension, a relocation. */
  notes: string[];
  /** Programs run whose effects pgstrap cannot see (the app's migrator): what ran, where, outcome and time. */
  handedOff: string[];
  /** Wall time the step took. */
  durationMs: number;
  /** What an unchanged step found, e.g. `passed`. */
  verdict: string | undefined;
  /** Settings this step wrote that take effect only when the running server restarts (the start step does it). */
  restartRequired?: string;
}

/** What a step returns; the runner adds id and title. */
export interface StepOutcome {
  status?: StepStatus;
  /** Says what an unchanged step found, for steps that check rather than change (default: up to date). */
  verdict?: string;
  changes?: string[];
  notes?: string[];
  handedOff?: string[];
  /** Settings written that take effect only at start, while the server runs: the start step restarts it. */
  restartRequired?: string;
}

/** The status a step's outcome implies when it does not set one. */
export function toReport(id: string, title: string, outcome: StepOutcome, durationMs = 0): StepReport {
  const changes = outcome.changes ?? [];
  const notes = outcome.notes ?? [];
  const handedOff = outcome.handedOff ?? [];
  const status = outcome.status ?? (changes.length > 0 ? 'changed' : 'unchanged');
  const report: StepReport = { id, title, status, changes, notes, handedOff, durationMs: Math.round(durationMs), verdict: outcome.verdict };
  return outcome.restartRequired ? { ...report, restartRequired: outcome.restartRequired } : report;
}

/** The settings an earlier step of this run wrote that need a restart no start step has done yet. */
export function pendingRestart(reports: readonly StepReport[]): string | undefined {
  for (let i = reports.length - 1; i >= 0; i--) {
    const report = reports[i]!;
    if (report.id === 'start' && report.status !== 'skipped') return undefined;
    if (report.restartRequired) return report.restartRequired;
  }
  return undefined;
}

/** True when no step changed anything (nor ran a program whose changes pgstrap cannot see). */
export function nothingChanged(reports: StepReport[]): boolean {
  return reports.every((r) => r.changes.length === 0 && r.handedOff.length === 0);
}

/** The closing line of a run. */
export function summaryLine(reports: StepReport[]): string {
  const changed = reports.filter((r) => r.changes.length > 0);
  const warnings = reports.filter((r) => r.status === 'warning').length;
  const tail = warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'}: see above)` : '';
  const handedOff = reports.flatMap((r) => r.handedOff);
  // pgstrap cannot see what the app's migrator did, so it never calls such a run "nothing to do".
  const ran = handedOff.length === 0 ? '' : ` ${handedOff.map((h) => `${h[0]!.toUpperCase()}${h.slice(1)}`).join('. ')}; what it changed is in its output above.`;
  if (changed.length === 0) return handedOff.length === 0 ? `Nothing to do: everything is up to date${tail}.` : `pgstrap had nothing to do${tail}.${ran}`;
  const count = changed.reduce((n, r) => n + r.changes.length, 0);
  return `Done: ${count} change${count === 1 ? '' : 's'} in ${changed.map((r) => r.id).join(', ')}${tail}.${ran}`;
}
