/**
 * The throwaway test cluster (opt-in: `testCluster: true` or PGSTRAP_TEST_CLUSTER=1): a second cluster of the
 * project's engine in `<stateDir>/test-cluster`, with fsync and full-page writes off, so clones skip the disk
 * flushes that dominate them. Never the development data directory; `db:prune-test --all` stops and removes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { firstFreePort, readRecordedPort, recordPort } from '../server/port.ts';
import { withProjectLock } from '../server/project-lock.ts';
import { selectTarget } from '../server/select.ts';
import type { ManagedTarget } from '../server/target.ts';
import { runStepsPlain } from '../pipeline/run.ts';
import { START_STEPS } from '../pipeline/steps.ts';
import { testClusterConfig } from './template.ts';

function stateDirOf(dev: ManagedTarget): string {
  return path.join(dev.config.stateDir, 'test-cluster');
}

/** Where the test cluster's port is kept: beside its state folder, which holds only what pgstrap's layout expects. */
function portFileOf(dev: ManagedTarget): string {
  return path.join(dev.config.stateDir, 'test-cluster.port');
}

async function testTarget(dev: ManagedTarget, port: number): Promise<ManagedTarget> {
  const config = testClusterConfig(dev.config, stateDirOf(dev), port);
  const target = await selectTarget(config, { engine: dev.kind });
  if (target.kind === 'external') throw new Error('the test cluster resolved to an external server');
  if (path.resolve(target.layout.dataDir) === path.resolve(dev.layout.dataDir)) {
    throw new PgstrapError({ code: 'testing.cluster-on-dev-data', message: 'the throwaway test cluster would use the development data directory', remedy: 'Set no dataDir that points into <stateDir>/test-cluster.', exit: ExitCode.usage });
  }
  return target;
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
    const target = await testTarget(dev, port);
    if (!target.cluster.status().running) {
      log(`starting the throwaway test cluster in ${stateDir} on port ${port} (fsync off)`);
      await runStepsPlain(START_STEPS, { config: target.config, target, reports: [] }, log);
    }
    return target;
  });
}

/** Stops and removes the test cluster; false when there is none. */
export async function removeTestCluster(dev: ManagedTarget): Promise<boolean> {
  const stateDir = stateDirOf(dev);
  const port = await readRecordedPort(portFileOf(dev));
  if (port === undefined) return false;
  return withProjectLock(stateDir, 'test cluster', async () => {
    const target = await testTarget(dev, port);
    await target.cluster.stop();
    if (target.layout.relocated) fs.rmSync(target.layout.runtimeDir, { recursive: true, force: true });
    fs.rmSync(path.join(stateDir, 'data'), { recursive: true, force: true });
    fs.rmSync(portFileOf(dev), { force: true });
    return true;
  });
}

/** The test cluster when it exists and runs, else undefined (nothing is started). */
export async function runningTestCluster(dev: ManagedTarget): Promise<ManagedTarget | undefined> {
  const port = await readRecordedPort(portFileOf(dev));
  if (port === undefined) return undefined;
  const target = await testTarget(dev, port);
  return target.cluster.status().running ? target : undefined;
}
