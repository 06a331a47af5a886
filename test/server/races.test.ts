/**
 * Two pgstraps at once, a standalone backend, a data directory deleted under its running server: the
 * project lock serialises commands, and nothing a live process holds is ever taken for stale.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isPgstrapError } from '../../scripts/shared/errors.ts';
import { withProjectLock } from '../../scripts/server/project-lock.ts';
import { initialiseStep } from '../../scripts/cluster/step.ts';
import { makeProject, managedTarget, runCli, runStepsQuietly, spawnCli, waitForExit, type TestProject } from '../support/project.ts';

let project: TestProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

async function embeddedProject(): Promise<TestProject> {
  project = await makeProject({ databases: ['app'] });
  project.writeConfigFile({ databases: ['app'], port: project.config.port, engine: 'embedded' });
  return project;
}

describe('one pgstrap at a time in a project', () => {
  it('lets a second setup on a fresh project wait for the first, say for whom, then find nothing to do', async () => {
    const p = await embeddedProject();
    const first = spawnCli(['setup'], { cwd: p.dir });
    await first.waitFor(/Initialise the cluster/);
    const second = spawnCli(['setup'], { cwd: p.dir });
    const [a, b] = await Promise.all([first.exited, second.exited]);
    expect(a.code, a.output).toBe(0);
    expect(b.code, b.output).toBe(0);
    expect(b.output).toMatch(new RegExp(`waiting for pid ${first.pid} \\(setup, for \\d+ s\\) to finish`));
    expect(b.output).toContain('Nothing to do: everything is up to date');
  });

  it('takes over a lock whose holder was killed, saying that it is gone', async () => {
    const p = await embeddedProject();
    fs.mkdirSync(p.config.stateDir, { recursive: true });
    // A holder killed with SIGKILL: it never released its lock. The interval keeps it alive until then: a pending
    // promise alone does not, and a holder that ends by itself removes its lock on the way out (proper-lockfile's
    // exit hook), which made this test fail now and then with no lock to take over.
    const holder = spawn(process.execPath, [
      '--import', 'tsx', '-e',
      `const { withProjectLock } = await import(${JSON.stringify(path.resolve(import.meta.dirname, '../../scripts/server/project-lock.ts'))});
       await withProjectLock(${JSON.stringify(p.config.stateDir)}, 'setup', () => new Promise(() => { console.log('held'); setInterval(() => {}, 1000); }));`,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    const said = await new Promise<string>((resolve) => holder.stdout!.once('data', (chunk: Buffer) => resolve(String(chunk))));
    // The lock must be there when its holder dies (this once failed with no lock to take over; say what the holder printed).
    expect(fs.existsSync(path.join(p.config.stateDir, 'lock')), `the holder said ${JSON.stringify(said)}`).toBe(true);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('close', resolve));
    const lines: string[] = [];
    const started = Date.now();
    await withProjectLock(p.config.stateDir, 'test', async () => undefined, { onWait: (line) => lines.push(line) });
    expect(lines, `waited ${Date.now() - started} ms; lock folder ${fs.existsSync(path.join(p.config.stateDir, 'lock')) ? 'still there' : 'gone'}`).toEqual([expect.stringMatching(new RegExp(`^waiting for pid ${holder.pid} \\(setup, for \\d+ s\\), which is gone: its lock frees itself within seconds to finish$`))]);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('never removes the postmaster.pid of a live standalone backend, and starts once it has gone', async () => {
    const p = await embeddedProject();
    expect((await runCli(['setup'], { cwd: p.dir })).exitCode).toBe(0);
    expect((await runCli(['stop'], { cwd: p.dir })).exitCode).toBe(0);
    const target = await managedTarget(p);
    // `postgres --single` writes its pid negated into postmaster.pid, as initdb's backend does.
    const single = spawn(path.join(target.binaries.binDir, 'postgres'), ['--single', '-D', target.layout.dataDir, 'postgres'], {
      uid: target.user?.uid,
      gid: target.user?.gid,
      cwd: '/',
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const pidFile = path.join(target.layout.dataDir, 'postmaster.pid');
    for (let i = 0; i < 200 && !(fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').startsWith('-')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(fs.readFileSync(pidFile, 'utf8').split('\n')[0]).toBe(`-${single.pid}`);
    const refused = await runCli(['start'], { cwd: p.dir });
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain(`a standalone backend (pid ${single.pid}) is using ${target.layout.dataDir}`);
    expect(fs.readFileSync(pidFile, 'utf8').split('\n')[0]).toBe(`-${single.pid}`);
    const status = await runCli(['status'], { cwd: p.dir });
    expect(status.stdout).toContain(`a standalone backend (pid ${single.pid}) is using the data directory`);
    single.stdin!.end();
    await new Promise((resolve) => single.once('close', resolve));
    expect((await runCli(['start'], { cwd: p.dir })).exitCode).toBe(0);
  });

  it('refuses to make a cluster while the server of a deleted data directory still runs, naming its pid', async () => {
    const p = await embeddedProject();
    expect((await runCli(['setup'], { cwd: p.dir })).exitCode).toBe(0);
    const target = await managedTarget(p);
    const pid = target.cluster.status().pid!;
    fs.rmSync(target.layout.dataDir, { recursive: true, force: true });
    const status = await runCli(['status'], { cwd: p.dir });
    expect(status.stdout).toContain(`the data directory is gone while its server (pid ${pid}) still runs: stop it (kill -INT ${pid})`);
    const refused = await runCli(['setup'], { cwd: p.dir });
    expect(refused.exitCode, refused.stdout + refused.stderr).toBe(4);
    expect(refused.stderr).toContain(`a server (pid ${pid}) still runs for ${target.layout.dataDir}, but that data directory is not there any more`);
    expect(refused.stderr).toContain(`kill -INT ${pid}`);
    expect(fs.existsSync(target.layout.dataDir)).toBe(false);
    process.kill(pid, 'SIGINT');
    expect(await waitForExit(pid)).toBe(true);
    const again = await runCli(['setup'], { cwd: p.dir });
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect((await runCli(['status'], { cwd: p.dir })).stdout).toMatch(/state\s+running/);
  });

  it('never removes the socket lock file of a live server that shares the socket folder', async () => {
    const p = await embeddedProject();
    expect((await runCli(['setup'], { cwd: p.dir })).exitCode).toBe(0);
    const target = await managedTarget(p);
    const pid = target.cluster.status().pid!;
    // A second project's cluster, made with the same socket folder, started on the first one's port.
    const other = await makeProject({ databases: ['app'], socketDir: target.layout.socketDir });
    try {
      const otherTarget = await managedTarget(other);
      await runStepsQuietly([initialiseStep], other.config, otherTarget);
      const error = await otherTarget.cluster.start(p.config.port).catch((e: unknown) => e);
      expect(isPgstrapError(error) && error.code).toBe('cluster.socket-in-use');
      expect((error as Error).message).toContain(`a server (pid ${pid}, data directory ${target.layout.dataDir}) holds the socket`);
      expect(fs.existsSync(path.join(target.layout.socketDir, `.s.PGSQL.${p.config.port}.lock`))).toBe(true);
      expect(target.cluster.status().pid).toBe(pid);
      expect((await runCli(['status'], { cwd: p.dir })).exitCode).toBe(0);
    } finally {
      await other.remove();
    }
  });
});
