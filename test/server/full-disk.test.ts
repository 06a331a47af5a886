/**
 * A full disk, for real: the project lives on a small tmpfs (mounting one needs root, as CI and containers
 * run; skipped elsewhere), which is filled with a file. Each failure names the disk and what to do, leaves
 * nothing half made, and the same command works once there is room again; `stop` still stops the server.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/shared/errors.ts';
import { makeProject, runCli, type TestProject } from '../support/project.ts';

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

const mountable = canMount();
const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-full-disk-'));
let project: TestProject;
let filler: string;

/** Resizes the tmpfs (tmpfs takes a new size on remount, keeping its files). */
function resize(megabytes: number): void {
  execFileSync('mount', ['-o', `remount,size=${megabytes}m`, mount]);
}

/** Fills the disk up to `leave` bytes free (0: completely). */
function fill(leave = 0): void {
  const { bavail, bsize } = fs.statfsSync(mount);
  const free = bavail * bsize;
  const fd = fs.openSync(filler, 'a');
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    let left = free - leave;
    while (left > 0) {
      try {
        left -= fs.writeSync(fd, chunk, 0, Math.min(chunk.length, left));
      } catch {
        break;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

function files(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

beforeAll(async () => {
  if (!mountable) return;
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m,mode=0755', 'tmpfs', mount]);
  project = await makeProject({ databases: ['app'], engine: 'embedded' }, { parent: mount });
  project.writeConfigFile({ port: project.config.port, databases: ['app'], engine: 'embedded' });
  fs.mkdirSync(path.join(project.dir, 'migrations'));
  filler = path.join(mount, 'filler');
});

afterAll(async () => {
  if (!mountable) return;
  fs.rmSync(filler, { force: true });
  await project?.remove();
  execFileSync('umount', ['-l', mount]);
  fs.rmSync(mount, { recursive: true, force: true });
});

describe.skipIf(!mountable)('a full disk', () => {
  it('stops a first setup on a disk with no byte free with disk.full, exit 3, and no half-written file', async () => {
    fill();
    const result = await runCli(['setup'], { cwd: project.dir });
    const stderr = String(result.stderr);
    expect(result.exitCode, stderr).toBe(ExitCode.environment);
    expect(stderr).toMatch(/error \[disk\.full\] no space left on the disk/);
    expect(stderr).toMatch(/fix: The disk that holds \S+ is full \(`df -h /);
    expect(stderr).not.toContain('unexpected error');
    // Nothing half written: no temporary file, no empty marker or port file.
    const left = files(project.config.stateDir);
    expect(left.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const f of left) expect(fs.statSync(path.join(project.config.stateDir, f)).size, f).toBeGreaterThan(0);
    fs.rmSync(filler);
  });

  it('fails initdb with the disk named and nothing left, and a setup with room then works', async () => {
    // 20 MB: a new cluster needs about 40.
    const first = await runCli(['setup'], { cwd: project.dir });
    const stderr = String(first.stderr);
    expect(first.exitCode, stderr).toBe(ExitCode.cluster);
    expect(stderr).toContain('[cluster.initdb-failed]');
    expect(stderr).toContain('No space left on device');
    expect(stderr).toMatch(new RegExp(`fix: The disk that holds ${project.config.stateDir} is full \\(\`df -h`));
    // No data directory, no staging folder beside it.
    expect(files(project.config.stateDir).filter((f) => f === 'data' || f.startsWith('.data'))).toEqual([]);
    resize(160);
    const second = await runCli(['setup'], { cwd: project.dir });
    expect(second.exitCode, String(second.stderr)).toBe(0);
  });

  it('fails a migration with "nothing is wrong with the file", records nothing, and applies it once there is room', async () => {
    fs.writeFileSync(
      path.join(project.dir, 'migrations', '20260101000000_big.sql'),
      "CREATE TABLE big (id bigint PRIMARY KEY, pad text);\nINSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g;\n",
    );
    fill(2 * 1024 * 1024);
    const failed = await runCli(['migrate'], { cwd: project.dir });
    const stderr = String(failed.stderr);
    expect(failed.exitCode, stderr).toBe(ExitCode.database);
    expect(stderr).toMatch(/migrations\/20260101000000_big\.sql:2:1: could not extend file .*: No space left on device \(53100\)/);
    expect(stderr).toMatch(/fix: Nothing is wrong with migrations\/20260101000000_big\.sql: the server's disk is full/);
    const pending = await runCli(['migrate:status', '--json'], { cwd: project.dir });
    expect(pending.exitCode).toBe(6);
    fs.rmSync(filler);
    const again = await runCli(['migrate'], { cwd: project.dir });
    expect(again.exitCode, String(again.stderr)).toBe(0);
    expect(String(again.stdout)).toMatch(/applied 20260101000000_big\.sql to app/);
  });

  it('still stops the server with no byte free, and doctor names the disk and the fix', async () => {
    fill();
    expect(fs.statfsSync(mount).bavail).toBe(0);
    const stop = await runCli(['stop'], { cwd: project.dir });
    expect(stop.exitCode, String(stop.stderr)).toBe(0);
    expect(String(stop.stdout)).toContain('Stopped the cluster.');
    // No lock left behind, nor an empty owner file from the write that failed.
    expect(files(project.config.stateDir).filter((f) => f.startsWith('lock'))).toEqual([]);
    const start = await runCli(['start'], { cwd: project.dir });
    expect(start.exitCode).toBe(ExitCode.cluster);
    expect(String(start.stderr)).toMatch(/fix: The disk that holds .* is full/);
    const doctor = await runCli(['doctor', '--json'], { cwd: project.dir });
    const report = JSON.parse(String(doctor.stdout)) as { checks: Array<{ id: string; status: string; message: string; fix?: string }> };
    const disk = report.checks.find((c) => c.id === 'cluster.disk');
    expect(disk).toMatchObject({ status: 'fail', message: expect.stringMatching(/^[0-9.]+ (bytes|KB) free of .* on the disk that holds .*: too little for the server to start or write$/) });
    expect(disk?.fix).toMatch(/is full .*then npm run db:start/);
    fs.rmSync(filler);
    // Room enough not to be warned about (four times the 64 MB floor).
    resize(512);
    const started = await runCli(['start'], { cwd: project.dir });
    expect(started.exitCode, String(started.stderr)).toBe(0);
    const healthy = JSON.parse(String((await runCli(['doctor', '--json'], { cwd: project.dir })).stdout)) as typeof report;
    expect(healthy.checks.find((c) => c.id === 'cluster.disk')?.status).toBe('ok');
  });
});
