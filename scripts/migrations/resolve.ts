/** What `--accept` and `--retry` do to drift: which drift they resolve, and which they cannot. */
import type { PgstrapError } from '../shared/errors.ts';
import { nothingToResolve } from './errors.ts';
import type { Drift } from './plan.ts';

/** The versions named by `--accept` and `--retry`. */
export interface Resolutions {
  /** Record the file as it is now (an edit is intended; a missing file is forgotten; a half-applied one counts as applied). */
  accept?: readonly string[] | undefined;
  /** Run a file that stopped half way again from the statement that failed. */
  retry?: readonly string[] | undefined;
}

/** Splits one database's drift into what the flags accept, what they retry, and what still stops the run. */
export function resolveDrift(drifted: readonly Drift[], flags: Resolutions): { accept: Drift[]; retry: Drift[]; remaining: Drift[] } {
  const accept: Drift[] = [];
  const retry: Drift[] = [];
  const remaining: Drift[] = [];
  for (const drift of drifted) {
    if (flags.accept?.includes(drift.version)) accept.push(drift);
    else if (drift.kind === 'half-applied' && flags.retry?.includes(drift.version)) retry.push(drift);
    else remaining.push(drift);
  }
  return { accept, retry, remaining };
}

/** An error when a flag names a version that has no such drift in any database, so a typo changes nothing. */
export function checkResolutions(drifted: readonly Drift[], flags: Resolutions): PgstrapError | undefined {
  const driftedVersions = [...new Set(drifted.map((d) => d.version))];
  const halfway = [...new Set(drifted.filter((d) => d.kind === 'half-applied').map((d) => d.version))];
  const unknownAccept = (flags.accept ?? []).filter((v) => !driftedVersions.includes(v));
  if (unknownAccept.length > 0) return nothingToResolve('accept', unknownAccept, driftedVersions);
  const unknownRetry = (flags.retry ?? []).filter((v) => !halfway.includes(v));
  if (unknownRetry.length > 0) return nothingToResolve('retry', unknownRetry, halfway);
  return undefined;
}
