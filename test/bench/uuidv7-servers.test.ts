/**
 * bench:uuidv7-servers end to end on the embedded 17 with tiny figures (the figures themselves are not asserted:
 * they depend on the machine), its refusals, and the pure summary it ends with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { summarise } from '../../bench/uuidv7-servers.ts';
import type { GenerationFigures } from '../../scripts/bench/generation.ts';
import { REPO_ROOT, waitForExit } from '../support/project.ts';

const SCRIPT = path.join(REPO_ROOT, 'bench/uuidv7-servers.ts');
const bench = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: REPO_ROOT, reject: false, env: { PGSTRAP_URL: undefined } });

describe('npm run bench:uuidv7-servers', () => {
  it('measures a server in a scratch project, names its build, summarises the goals, and removes the project', async () => {
    const result = await bench('--only', 'embedded-17', '--rows', '2000', '--repeats', '1');
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(result.stdout).toMatch(/^== embedded-17$/m);
    expect(result.stdout).toMatch(/^uuidv7 generation on PostgreSQL 17\.\d+, compiled by /m);
    expect(result.stdout).toMatch(/^generation at most 1\.15x the peer SQL function's time +\d+\.\d\dx: (met|NOT met)$/m);
    expect(result.stdout).toMatch(/^strictly monotonic within a session +0 keys out of order: met$/m);
    const dir = /embedded-17: scratch project (\S+)/.exec(String(result.stderr))?.[1];
    expect(dir).toBeDefined();
    expect(fs.existsSync(dir!)).toBe(false);
  }, 120_000);

  it('on SIGTERM mid-run, stops the scratch server and removes the project before exiting 143', async () => {
    const child = execa(process.execPath, ['--import', 'tsx', SCRIPT, '--only', 'embedded-17', '--rows', '200000', '--repeats', '5'], {
      cwd: REPO_ROOT,
      reject: false,
      env: { PGSTRAP_URL: undefined },
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += String(chunk);
        if (/embedded-17: generate /.test(stderr)) resolve();
      });
      child.once('exit', () => reject(new Error(`exited before measuring: ${stderr}`)));
    });
    const dir = /embedded-17: scratch project (\S+)/.exec(stderr)![1]!;
    const pid = Number(fs.readFileSync(path.join(dir, '.pgstrap/data/postmaster.pid'), 'utf8').split('\n')[0]);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    expect(result.stderr).toContain(`SIGTERM: removing the scratch project ${dir} before exiting`);
    expect(fs.existsSync(dir)).toBe(false);
    expect(await waitForExit(pid)).toBe(true);
  }, 120_000);

  it('refuses an unknown server and bad numbers with exit 2, naming them', async () => {
    const unknown = await bench('--only', 'embedded-17,oracle-23');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('unknown server oracle-23 in --only (known: embedded-17, embedded-18, debian-15, trixie-17)');
    const rows = await bench('--rows', 'many');
    expect(rows.exitCode).toBe(2);
    expect(rows.stderr).toContain('--rows and --repeats take a whole number');
  });
});

describe('the summary', () => {
  const figure = (id: string, seconds: number, extra: Partial<GenerationFigures> = {}): GenerationFigures =>
    ({ id, label: id, generateSeconds: seconds, insertSeconds: seconds, indexBytes: 1, outOfOrder: 0, ...extra });
  const report = (server: string, strong: number) => ({
    server,
    rows: 10,
    repeats: 1,
    insertRepeats: 1,
    figures: [figure('v4', 1), figure('fallback', strong, { random: 'strong' as const }), figure('peer', 2)],
  });

  it('puts each goal on a row and each server in a column, with the skipped ones and why below', () => {
    const text = summarise([
      { server: { id: 'a', major: 17, engine: 'embedded' }, report: report('PostgreSQL 17.10, compiled by gcc 7.5', 2.2) },
      { server: { id: 'b', major: 15, engine: 'system' }, skip: 'no /usr/lib/postgresql/15/bin' },
      { server: { id: 'c', major: 17, engine: 'system' }, report: report('PostgreSQL 17.12', 2.6) },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^goal +a +c$/);
    expect(text).toMatch(/^generation at most 1\.15x the peer SQL function's time +1\.10x: met +1\.30x: NOT met$/m);
    expect(text).toMatch(/^strictly monotonic within a session +0 keys out of order: met +0 keys out of order: met$/m);
    expect(lines.slice(-3)).toEqual(['a: PostgreSQL 17.10, compiled by gcc 7.5', 'c: PostgreSQL 17.12', 'b: skipped, no /usr/lib/postgresql/15/bin']);
  });
});
