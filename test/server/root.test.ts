/**
 * Running as root (containers, CI): the server runs as an unprivileged user, and what that user cannot
 * reach (a checkout under a 0700 home) is relocated or staged. Only meaningful as root.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEmbeddedBinaries } from '../../scripts/server/embedded.ts';
import { placeCluster, reachableBinaries, relocationDir } from '../../scripts/server/placement.ts';
import { testClusterConfig } from '../../scripts/testing/template.ts';
import { removeTestCluster, startTestCluster } from '../../scripts/testing/cluster.ts';
import { getServerUser, isRoot } from '../../scripts/server/server-user.ts';
import { Cluster } from '../../scripts/server/cluster.ts';
import { listenSettings } from '../../scripts/server/conf.ts';
import { databasesStep } from '../../scripts/databases/step.ts';
import { initialiseStep, settingsStep, startStep } from '../../scripts/cluster/step.ts';
import { makeProject, managedTarget, query, REPO_ROOT, runStepsQuietly, type TestProject } from '../support/project.ts';

const root = isRoot();

describe.skipIf(!root)('as root (needs root; as a normal user pgstrap runs the server itself)', () => {
  let privateHome: string;
  let project: TestProject;

  beforeAll(async () => {
    // Like /root: a folder only root may enter.
    privateHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-home-'));
    fs.chmodSync(privateHome, 0o700);
    project = await makeProject({ databases: ['app'] }, { parent: privateHome });
  });
  afterAll(async () => {
    await project?.remove();
    fs.rmSync(privateHome, { recursive: true, force: true });
  });

  it('runs the server as postgres (or nobody), never root', async () => {
    const user = await getServerUser(undefined);
    expect(user?.uid).toBeGreaterThan(0);
    expect(['postgres', 'nobody']).toContain(user?.name);
  });

  it('refuses runAs root and names a missing user', async () => {
    await expect(getServerUser('root')).rejects.toMatchObject({ code: 'root.user-is-root' });
    await expect(getServerUser('no_such_user_x')).rejects.toMatchObject({ code: 'root.user-missing' });
  });

  it('moves runtime state out of a folder the server user cannot reach, and keeps the password with root', async () => {
    const target = await managedTarget(project);
    expect(target.layout.relocated).toBe(true);
    expect(target.layout.runtimeDir).toMatch(/^\/var\/(lib|db)\/pgstrap\/[0-9a-f]{10}$/);
    const reports = await runStepsQuietly([initialiseStep, settingsStep, startStep, databasesStep], project.config, target);
    expect(reports[0]?.notes.join('\n')).toContain(`runtime state lives in ${target.layout.runtimeDir}`);
    const owner = fs.statSync(target.layout.dataDir).uid;
    expect(owner).toBe(target.user!.uid);
    expect(fs.statSync(target.layout.passwordFile).uid).toBe(0);
    const [row] = await query<{ u: string }>(target, 'app', 'SELECT current_user AS u');
    expect(row?.u).toBe('postgres');
  });

  it("gives the throwaway test cluster relocated state of its own: another log file, socket folder and data directory", async () => {
    const user = await getServerUser(undefined);
    const dev = await placeCluster(project.config, user);
    const test = await placeCluster(testClusterConfig(project.config, path.join(project.config.stateDir, 'test-cluster'), project.config.port + 1), user);
    expect(test.relocated).toBe(true);
    expect(test.runtimeDir).toBe(relocationDir(project.dir, 'test'));
    expect(test.runtimeDir).not.toBe(dev.runtimeDir);
    for (const key of ['logFile', 'dataDir', 'socketDir'] as const) expect(test[key]).not.toBe(dev[key]);
    expect(fs.statSync(test.runtimeDir)).toMatchObject({ uid: 0, mode: expect.any(Number) });
    expect(fs.statSync(test.runtimeDir).mode & 0o022).toBe(0);
    fs.rmSync(test.runtimeDir, { recursive: true, force: true });
  });

  it('removes the throwaway test cluster with its relocated folder, and leaves no empty one from the places it looked', async () => {
    const target = await managedTarget(project);
    const test = await startTestCluster(target);
    expect(test.layout.relocated).toBe(true);
    expect(fs.existsSync(relocationDir(project.dir, 'test'))).toBe(true);
    expect(await removeTestCluster(target)).toBe(true);
    expect(fs.existsSync(test.layout.dataDir)).toBe(false);
    // Each place a test cluster may live is looked at, and working out its layout makes the relocated folder.
    expect(fs.existsSync(relocationDir(project.dir, 'test'))).toBe(false);
    expect(fs.existsSync(target.layout.runtimeDir)).toBe(true);
  });

  it('stages binaries the server user cannot execute next to the relocated state', async () => {
    const original = requireEmbeddedBinaries(17, REPO_ROOT);
    const hidden = path.join(privateHome, 'native');
    fs.cpSync(path.dirname(original.binDir), hidden, { recursive: true, verbatimSymlinks: true });
    const user = (await getServerUser(undefined))!;
    const elsewhere = path.join(privateHome, 'other-project');
    const layout = await placeCluster({ ...project.config, projectDir: elsewhere, stateDir: path.join(elsewhere, '.pgstrap') }, user);
    expect(layout.runtimeDir).not.toBe((await managedTarget(project)).layout.runtimeDir);
    const unreachable = { ...original, binDir: path.join(hidden, 'bin') };
    const staged = await reachableBinaries(unreachable, user, layout);
    expect(staged.binDir.startsWith(layout.runtimeDir)).toBe(true);
    // The staged copy really works as the server user: initdb a throwaway cluster with it.
    const cluster = new Cluster(staged, { ...layout, dataDir: path.join(layout.runtimeDir, 'data-staged') }, user, 'postgres');
    await cluster.initialise(listenSettings(1, layout.socketDir, ['127.0.0.1']));
    expect(cluster.isInitialised()).toBe(true);
    fs.rmSync(layout.runtimeDir, { recursive: true, force: true });
  });
});
