/**
 * `doctor --fix`: applies the safe repairs the checks ask for by running the setup pipeline's own steps
 * (never a second copy of their logic), plus tightening file modes. Nothing here drops, deletes or edits
 * what a person made; destructive fixes stay suggestions in the report.
 */
import fs from 'node:fs';
import type { ResolvedConfig } from '../config/types.ts';
import type { Repair } from './model.ts';
import type { StepReport } from '../pipeline/report.ts';
import type { Target } from '../server/target.ts';
import { SETUP_STEPS } from '../pipeline/steps.ts';
import { runSteps } from '../pipeline/run.ts';
import { assertTargetWritable } from '../server/read-privileges.ts';
import type { OutputMode } from '../shared/output.ts';

/**
 * The setup steps (by id) each repair runs. Only `start` brings the cluster steps: the other repairs come
 * from checks that run only against a running server, and the loop in run.ts checks again between rounds.
 */
const STEPS_FOR: Record<Repair, string[]> = {
  flake: ['nix-extensions'],
  permissions: [],
  start: ['cluster', 'settings', 'start'],
  databases: ['databases'],
  extensions: ['extensions'],
  uuidv7: ['uuidv7'],
  migrations: ['migrations'],
};

/** chmod 700 on a data directory wider than PostgreSQL accepts, 600 on the password files. */
function tightenModes(target: Target): string[] {
  if (target.kind === 'external') return [];
  const done: string[] = [];
  const { dataDir, passwordFile, pgpassFile } = target.layout;
  const dirMode = fs.existsSync(dataDir) ? fs.statSync(dataDir).mode & 0o777 : undefined;
  if (dirMode !== undefined && (dirMode & 0o027) !== 0) {
    fs.chmodSync(dataDir, 0o700);
    done.push(`chmod 700 ${dataDir}`);
  }
  for (const file of [passwordFile, pgpassFile]) {
    if (fs.existsSync(file) && (fs.statSync(file).mode & 0o777) !== 0o600) {
      fs.chmodSync(file, 0o600);
      done.push(`chmod 600 ${file}`);
    }
  }
  return done;
}

/** What --fix did: the steps' reports, file-mode changes, and a failure that stopped it, if any. */
export interface FixOutcome {
  reports: StepReport[];
  changes: string[];
  error: unknown;
}

/** Applies `repairs` in pipeline order; a failing step stops the fixes, and the re-check shows what is left. */
export async function applyRepairs(repairs: readonly Repair[], config: ResolvedConfig, target: Target, mode: OutputMode): Promise<FixOutcome> {
  const changes = repairs.includes('permissions') ? tightenModes(target) : [];
  const wanted = new Set(repairs.flatMap((r) => STEPS_FOR[r]));
  const steps = SETUP_STEPS.filter((s) => wanted.has(s.id));
  const reports: StepReport[] = [];
  try {
    if (steps.length > 0) {
      // A read-only server (a standby, a read-only role) is refused before the first step, never half way.
      await assertTargetWritable(target, 'doctor --fix');
      await runSteps(steps, { config, target, reports }, mode);
    }
    return { reports, changes, error: undefined };
  } catch (error) {
    return { reports, changes, error };
  }
}
