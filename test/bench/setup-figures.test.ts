/**
 * `--all`'s setup figures on the embedded engine: cold setup against scripts/bench/floor.sh and warm setup, in
 * scratch projects that are stopped and removed afterwards. Figures are not asserted, only their shape.
 */
import fs from 'node:fs';
import os from 'node:os';
import { expect, it } from 'vitest';
import { measureSetup } from '../../scripts/bench/setup-figures.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';

const SCRATCH = /pgstrap-bench-setup-|pgstrap-floor-/;

/** Scratch folders the setup figures create in the temp folder. */
function scratch(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((name) => SCRATCH.test(name));
}

/** Processes (servers) still running out of a scratch folder. */
function scratchProcesses(): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (SCRATCH.test(cmdline)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

it('times the floor, cold and warm setup, and leaves no scratch project or cluster behind', async () => {
  const before = scratch();
  const config = resolveConfig({ databases: ['app', 'app_test'] }, { file: undefined, projectDir: process.cwd() });
  const lines: string[] = [];
  const figures = await measureSetup(config, { coldRuns: 1, warmRuns: 1, log: (line) => lines.push(line) });
  expect(figures).toMatchObject({
    engine: expect.stringMatching(/^embedded PostgreSQL 17\./),
    databases: ['app', 'app_test'],
    floor: { runs: [expect.any(Number)], median: expect.any(Number) },
    coldSetup: { runs: [expect.any(Number)] },
    warmSetup: { runs: [expect.any(Number)] },
    warmSetupNode: { runs: [expect.any(Number)] },
    goals: { coldWithin1_5xFloor: expect.any(Boolean), warmUnder1s: expect.any(Boolean) },
  });
  expect(figures.coldRatio).toBeCloseTo(figures.coldSetup.median / figures.floor.median);
  expect(lines[0]).toMatch(/^floor run 1\/1: initdb, pg_ctl start, CREATE DATABASE app, app_test$/);
  expect(scratch().filter((name) => !before.includes(name))).toEqual([]);
  expect(scratchProcesses()).toEqual([]);
}, 300_000);
