/**
 * The throwaway test cluster (opt-in: `testCluster: true` or PGSTRAP_TEST_CLUSTER=1): a second cluster of the
 * project's engine with fsync and full-page writes off, its state in `<stateDir>/test-cluster` and, on Linux, its
 * data directory in memory (/dev/shm), so clones skip the disk that dominates them. Never the development data
 * directory; `db:prune-test --all` stops and removes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { currentUid, ensureTrustedDir, lstatOrUndefined, untrustedReason } from '../server/ownership.ts';
import { freeSpace } from '../server/free-space.ts';
import { firstFreePort, readRecordedPort, recordPort } from '../server/port.ts';
import { withProjectLock } from '../server/project-lock.ts';
import { selectTarget } from '../server/select.ts';
import type { ManagedTarget } from '../server/target.ts';
import { runStepsPlain } from '../pipeline/run.ts';
import { START_STEPS } from '../pipeline/steps.ts';
import { memoryDataDir, testClusterConfig } from './template.ts';

/** Linux's shared-memory file system, a tmpfs on every distribution. */
const MEMORY_DIR = '/dev/shm';
/** statfs f_type of a tmpfs. */
const TMPFS_MAGIC = 0x01021994;

/** Free space /dev/shm must have for the test cluster to go there: a container's default of 64 MB would not hold it. */
const MIN_MEMORY_FREE = 1024 ** 3;

/**
 * The memory file system the test cluster's data goes to: /dev/shm where it is a tmpfs with at least 1 GiB free,
 * unless PGSTRAP_TEST_CLUSTER_MEMORY=0.
 */
export function testClusterMemoryDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PGSTRAP_TEST_CLUSTER_MEMORY === '0' || process.platform !== 'linux') return undefined;
  const space = freeSpace(MEMORY_DIR);
  return space?.type === TMPFS_MAGIC && space.free >= MIN_MEMORY_FREE ? MEMORY_DIR : undefined;
}

function stateDirOf(dev: ManagedTarget): string {
  return path.join(dev.config.stateDir, 'test-cluster');
}

/** Where the test cluster's port is kept: beside its state folder, which holds only what pgstrap's layout expects. */
function portFileOf(dev: ManagedTarget): string {
  return path.join(dev.config.stateDir, 'test-cluster.port');
}

/**
 * The data directories a test cluster of the project may have: the one this run uses first (in memory, or
 * undefined for `<stateDir>/test-cluster/data`), then the other (made by a run with PGSTRAP_TEST_CLUSTER_MEMORY
 * set otherwise, or by an older pgstrap).
 */
function locations(dev: ManagedTarget): Array<string | undefined> {
  const memory = memoryDataDir(testClusterMemoryDir(), dev.config.stateDir);
  const anyMemory = memoryDataDir(MEMORY_DIR, dev.config.stateDir);
  return memory !== undefined ? [memory, undefined] : [undefined, ...(process.platform === 'linux' ? [anyMemory] : [])];
}

async function testTarget(dev: ManagedTarget, port: number, dataDir: string | undefined): Promise<ManagedTarget> {
  const config = testClusterConfig(dev.config, stateDirOf(dev), port, dataDir);
  const target = await selectTarget(config, { engine: dev.kind });
  if (target.kind === 'external') throw new Error('the test cluster resolved to an external server');
  if (path.resolve(target.layout.dataDir) === path.resolve(dev.layout.dataDir)) {
    throw new PgstrapError({ code: 'testing.cluster-on-dev-data', message: 'the throwaway test cluster would use the development data directory', remedy: 'Set no dataDir that points into <stateDir>/test-cluster.', exit: ExitCode.usage });
  }
  return target;
}

/** The test cluster's target at `dataDir`, or undefined where that would be the development cluster's data (a relocated state folder). */
async function otherTarget(dev: ManagedTarget, port: number, dataDir: string | undefined): Promise<ManagedTarget | undefined> {
  try {
    return await testTarget(dev, port, dataDir);
  } catch (error) {
    if ((error as { code?: string }).code === 'testing.cluster-on-dev-data') return undefined;
    throw error;
  }
}

/** Removes `dir` if it is an empty folder; one with anything in it (or gone already) is left as it is. */
function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    if (!['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
}

/** Stops a test cluster and removes its data (and its memory folder); false when it had none. */
async function removeAt(dev: ManagedTarget, port: number, dataDir: string | undefined): Promise<boolean> {
  if (dataDir !== undefined) {
    // /dev/shm is everyone's: never stop or delete through a folder (or symlink) that another user put there.
    const parent = lstatOrUndefined(path.dirname(dataDir));
    if (parent === undefined || untrustedReason(parent, currentUid()) !== undefined) return false;
  }
  const target = await otherTarget(dev, port, dataDir);
  if (!target) return false;
  // A relocated runtime folder (the server user cannot reach the project) is the test cluster's own, beside the
  // project's (server/placement.ts relocationDir); were it the development cluster's, it would stay.
  const ownRuntime = target.layout.relocated && path.resolve(target.layout.runtimeDir) !== path.resolve(dev.layout.runtimeDir);
  if (!fs.existsSync(target.layout.dataDir)) {
    // Nothing here, but working out the layout made (or proved) that folder: an empty one is not left behind.
    if (ownRuntime) removeIfEmpty(target.layout.runtimeDir);
    return false;
  }
  await target.cluster.stop();
  if (ownRuntime) fs.rmSync(target.layout.runtimeDir, { recursive: true, force: true });
  fs.rmSync(target.layout.dataDir, { recursive: true, force: true });
  if (dataDir !== undefined) fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  return true;
}

/** The running test cluster of the project, initialised and started the first time (under its own lock). */
export async function startTestCluster(dev: ManagedTarget, log: (line: string) => void = () => {}): Promise<ManagedTarget> {
  const stateDir = stateDirOf(dev);
  fs.mkdirSync(stateDir, { recursive: true });
  return withProjectLock(stateDir, 'test cluster', async () => {
    const portFile = portFileOf(dev);
    let port = await readRecordedPort(portFile);
    if (port === undefined) {
      port = await firstFreePort(dev.config.port + 1);
      await recordPort(portFile, port);
    }
    const [wanted, ...others] = locations(dev);
    if (wanted !== undefined) {
      ensureTrustedDir(path.dirname(wanted), 0o755, { purpose: "the throwaway test cluster's folder in memory", remedy: 'Remove it (pgstrap makes it anew), or set PGSTRAP_TEST_CLUSTER_MEMORY=0.' }, true);
    }
    // One test cluster per project: one left where this run does not look (it holds only clones and templates) goes.
    for (const other of others) if (await removeAt(dev, port, other)) log(`removed the throwaway test cluster in ${other ?? stateDir} (this run keeps it in ${wanted ?? stateDir})`);
    const target = await testTarget(dev, port, wanted);
    if (!target.cluster.status().running) {
      log(`starting the throwaway test cluster (data in ${target.layout.dataDir}) on port ${port} (fsync off)`);
      await runStepsPlain(START_STEPS, { config: target.config, target, reports: [] }, log);
    }
    return target;
  });
}

/** Stops and removes the test cluster; false when there is none. */
export async function removeTestCluster(dev: ManagedTarget): Promise<boolean> {
  const stateDir = stateDirOf(dev);
  const portFile = portFileOf(dev);
  const port = await readRecordedPort(portFile);
  if (port === undefined) return false;
  return withProjectLock(stateDir, 'test cluster', async () => {
    for (const dataDir of locations(dev)) await removeAt(dev, port, dataDir);
    fs.rmSync(portFile, { force: true });
    return true;
  });
}

/** The test cluster when it exists and runs, else undefined (nothing is started). */
export async function runningTestCluster(dev: ManagedTarget): Promise<ManagedTarget | undefined> {
  const port = await readRecordedPort(portFileOf(dev));
  if (port === undefined) return undefined;
  for (const dataDir of locations(dev)) {
    const target = await otherTarget(dev, port, dataDir);
    if (target?.cluster.status().running) return target;
  }
  return undefined;
}
