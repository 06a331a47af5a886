/**
 * Another local user on the machine, and folders pgstrap did not make: state outside the project is
 * created only where nobody else can plant anything, and a folder that is not provably pgstrap's is a
 * clear error that names it, its owner and mode; nothing in it ever runs. Needs root (to be the tester
 * and to create the other user); the user is made here and removed after.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, getServerUser } from '../../scripts/server/server-user.ts';
import { placeCluster, relocationBase, relocationDir } from '../../scripts/server/placement.ts';
import { run } from '../../scripts/server/process.ts';
import { projectTag } from '../../scripts/server/layout.ts';
import { makeProject, managedTarget, runCli, type TestProject } from '../support/project.ts';

const INTRUDER = 'pgstrap_intruder';

/** Fake server programs that leave a mark when anything runs them. */
function plantPrograms(dir: string, mark: string): void {
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  for (const name of ['initdb', 'pg_ctl', 'postgres']) {
    fs.writeFileSync(path.join(dir, 'bin', name), `#!/bin/sh\ntouch ${mark}\nexit 1\n`, { mode: 0o755 });
  }
}

describe.skipIf(!isRoot())('another local user (needs root to create one)', () => {
  let intruder: { uid: number; gid: number };
  let home: string;
  const mark = path.join(os.tmpdir(), `pgstrap-planted-ran-${process.pid}`);

  beforeAll(async () => {
    await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', INTRUDER], { reject: false });
    const id = async (flag: string) => Number((await run('id', [flag, INTRUDER])).stdout.trim());
    intruder = { uid: await id('-u'), gid: await id('-g') };
    // A checkout under a private home, as /root is: the server user cannot reach it, so state is relocated.
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-home-'));
    fs.chmodSync(home, 0o700);
  });
  afterAll(async () => {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(mark, { force: true });
    await run('userdel', [INTRUDER], { reject: false });
  });

  async function privateProject(): Promise<TestProject> {
    const project = await makeProject({ databases: ['app'] }, { parent: home });
    project.writeConfigFile({ databases: ['app'], port: project.config.port, engine: 'embedded' });
    return project;
  }

  it("ignores what another user planted where older pgstraps relocated state (/var/tmp/pgstrap-<tag>)", async () => {
    const project = await privateProject();
    const old = path.join('/var/tmp', `pgstrap-${projectTag(project.dir)}`);
    try {
      plantPrograms(path.join(old, 'postgresql-embedded-17.10'), mark);
      fs.writeFileSync(path.join(old, 'postgresql-embedded-17.10', '.pgstrap-origin'), 'copied marker');
      fs.chownSync(old, intruder.uid, intruder.gid);
      const setup = await runCli(['setup'], { cwd: project.dir });
      expect(setup.exitCode, setup.stdout + setup.stderr).toBe(0);
      const target = await managedTarget(project);
      expect(target.layout.runtimeDir).toBe(relocationDir(project.dir));
      expect(fs.statSync(target.layout.runtimeDir).uid).toBe(0);
      expect(fs.existsSync(mark)).toBe(false);
      // The staged binaries are root's, and nobody else may change them.
      for (const file of ['postgres', 'initdb', 'pg_ctl']) {
        const stat = fs.statSync(path.join(target.binaries.binDir, file));
        expect(stat.uid).toBe(0);
        expect(stat.mode & 0o022).toBe(0);
      }
    } finally {
      await project.remove();
      fs.rmSync(old, { recursive: true, force: true });
    }
  });

  it('refuses a relocation folder another user owns, naming it, its owner and mode, and runs nothing in it', async () => {
    const project = await privateProject();
    const dir = relocationDir(project.dir);
    try {
      fs.mkdirSync(relocationBase(), { recursive: true, mode: 0o755 });
      plantPrograms(path.join(dir, 'postgresql-embedded-17.10'), mark);
      fs.chownSync(dir, intruder.uid, intruder.gid);
      fs.chmodSync(dir, 0o777);
      const setup = await runCli(['setup'], { cwd: project.dir });
      expect(setup.exitCode).toBe(3);
      expect(setup.stderr).toContain(`${dir} (where pgstrap keeps runtime state the server user cannot reach in the project) is a folder owned by ${INTRUDER} (mode 0777)`);
      expect(setup.stderr).toContain(`it belongs to ${INTRUDER}, not root`);
      expect(setup.stderr).not.toMatch(/at .*\.ts:\d+/);
      expect(fs.existsSync(mark)).toBe(false);
      expect(fs.existsSync(path.join(project.config.stateDir, 'data'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await project.remove();
    }
  });

  it('refuses a relocation base others may write to', async () => {
    const project = await privateProject();
    const base = relocationBase();
    fs.mkdirSync(base, { recursive: true, mode: 0o755 });
    const mode = fs.statSync(base).mode & 0o7777;
    try {
      fs.chmodSync(base, 0o1777);
      const error = await placeCluster(project.config, await getServerUser(undefined)).catch((e: unknown) => e);
      expect(String((error as Error).message)).toContain(`${base} (where pgstrap keeps runtime state`);
      expect(String((error as Error).message)).toContain('others may create entries in it (mode 01777)');
    } finally {
      fs.chmodSync(base, mode);
      await project.remove();
    }
  });

  it('makes the short socket folder with an unguessable name, private to the server user, and never uses one another user made', async () => {
    const deep = path.join(os.tmpdir(), `pgstrap-deep-${'x'.repeat(80)}`);
    fs.mkdirSync(deep, { recursive: true, mode: 0o755 });
    const project = await makeProject({ databases: ['app'] }, { parent: deep });
    try {
      project.writeConfigFile({ databases: ['app'], port: project.config.port, engine: 'embedded' });
      const first = await managedTarget(project);
      const socketDir = first.layout.socketDir;
      expect(socketDir).toMatch(/^\/tmp\/pgstrap-[A-Za-z0-9]{6}$/);
      const stat = fs.statSync(socketDir);
      expect(stat.mode & 0o777).toBe(0o700);
      expect(stat.uid).toBe(first.user!.uid);
      expect((await managedTarget(project)).layout.socketDir).toBe(socketDir);
      // Another user replaces the recorded folder with one of their own: pgstrap makes a new one.
      fs.rmSync(socketDir, { recursive: true });
      fs.mkdirSync(socketDir, { mode: 0o700 });
      fs.chownSync(socketDir, intruder.uid, intruder.gid);
      const next = await managedTarget(project);
      expect(next.layout.socketDir).not.toBe(socketDir);
      fs.rmSync(socketDir, { recursive: true });
      const setup = await runCli(['setup'], { cwd: project.dir });
      expect(setup.exitCode, setup.stdout + setup.stderr).toBe(0);
      expect(fs.existsSync(path.join(next.layout.socketDir, `.s.PGSQL.${project.config.port}`))).toBe(true);
      fs.rmSync(next.layout.socketDir, { recursive: true, force: true });
    } finally {
      await project.remove();
      fs.rmSync(deep, { recursive: true, force: true });
    }
  });
});

describe('folders pgstrap did not make', () => {
  let project: TestProject;
  beforeAll(async () => {
    project = await makeProject({ databases: ['app'] });
  });
  afterAll(async () => project?.remove());

  function writeConfig(extra: Record<string, unknown>): void {
    project.writeConfigFile({ databases: ['app'], port: project.config.port, engine: 'embedded', ...extra });
  }

  it("refuses stateDir: '.' before touching the project folder", async () => {
    const before = fs.statSync(project.dir);
    writeConfig({ stateDir: '.' });
    const result = await runCli(['setup'], { cwd: project.dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`stateDir: ${project.dir} is the project folder or holds it`);
    const after = fs.statSync(project.dir);
    expect([after.uid, after.mode]).toEqual([before.uid, before.mode]);
  });

  it('refuses an existing folder holding files pgstrap did not make, and leaves it as it was', async () => {
    const other = path.join(project.dir, 'src');
    fs.mkdirSync(other, { mode: 0o755 });
    fs.writeFileSync(path.join(other, 'index.ts'), 'export {};\n');
    writeConfig({ stateDir: 'src' });
    const result = await runCli(['setup'], { cwd: project.dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`stateDir: ${other} already holds files pgstrap did not make (index.ts)`);
    expect(fs.statSync(other).mode & 0o777).toBe(0o755);
    expect(fs.readdirSync(other)).toEqual(['index.ts']);
  });

  it('refuses a stateDir or dataDir that is a file, or a symlink, with a config error and no stack trace', async () => {
    fs.writeFileSync(path.join(project.dir, 'afile'), 'x');
    fs.mkdirSync(path.join(project.dir, 'elsewhere'));
    fs.symlinkSync(path.join(project.dir, 'elsewhere'), path.join(project.dir, 'alink'));
    for (const [key, value, says] of [
      ['stateDir', 'afile', 'is a file, not a folder'],
      ['dataDir', 'afile', 'is a file, not a folder'],
      ['stateDir', 'alink', `is a symlink to ${path.join(project.dir, 'elsewhere')}`],
      ['dataDir', 'alink', `is a symlink to ${path.join(project.dir, 'elsewhere')}`],
    ] as const) {
      writeConfig({ [key]: value });
      const result = await runCli(['setup'], { cwd: project.dir });
      expect(result.exitCode, `${key}: ${value}\n${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(`${key}: ${path.join(project.dir, value)} ${says}`);
      expect(result.stderr).not.toContain('unexpected error');
    }
    expect(fs.readdirSync(path.join(project.dir, 'elsewhere'))).toEqual([]);
  });

  it('adopts a state folder an older pgstrap made (only its own files), and marks it', async () => {
    const legacy = path.join(project.dir, 'legacy-state');
    fs.mkdirSync(path.join(legacy, 'log'), { recursive: true });
    fs.writeFileSync(path.join(legacy, 'password'), 'x\n', { mode: 0o600 });
    writeConfig({ stateDir: 'legacy-state' });
    const result = await runCli(['status'], { cwd: project.dir });
    expect(result.stdout).toContain('not initialised');
    expect(fs.existsSync(path.join(legacy, '.pgstrap-state'))).toBe(true);
  });
});
