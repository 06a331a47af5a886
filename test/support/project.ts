/**
 * Test projects: a temporary folder with an extensions.config.json-like config, a free port, and
 * the real pipeline to bring a cluster up. Tests talk to real servers only.
 */
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PgstrapConfig, ResolvedConfig } from '../../scripts/config/types.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import type { StepReport } from '../../scripts/pipeline/report.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { probeVersion } from '../../scripts/server/binaries.ts';
import { selectTarget, type EngineOverrides } from '../../scripts/server/select.ts';
import { connectionFor, type ManagedTarget, type Target } from '../../scripts/server/target.ts';
import type { Step } from '../../scripts/pipeline/step.ts';
import { runStepsPlain } from '../../scripts/pipeline/run.ts';
import { isProcessAlive, run } from '../../scripts/server/process.ts';
import { relocationDir } from '../../scripts/server/placement.ts';
import { removeTestCluster } from '../../scripts/testing/cluster.ts';
import type pg from 'pg';

/** The repository root: embedded binaries resolve from its node_modules. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A temporary project folder (0755 so a server user can reach it when tests run as root). */
export interface TestProject {
  dir: string;
  config: ResolvedConfig;
  /** Writes `extensions.config.mjs` with this config, for CLI tests. */
  writeConfigFile(raw: PgstrapConfig | Record<string, unknown>): string;
  remove(): Promise<void>;
}

/** Creates a project; `raw` is what a team would write, resolved as the loader would. */
export async function makeProject(raw: PgstrapConfig = {}, options: { parent?: string } = {}): Promise<TestProject> {
  const parent = options.parent ?? os.tmpdir();
  const dir = fs.mkdtempSync(path.join(parent, 'pgstrap-test-'));
  fs.chmodSync(dir, 0o755);
  // Embedded binaries resolve from the repository's node_modules.
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"pgstrap-test-project","private":true,"type":"module"}\n');
  const port = raw.port ?? (await freePort());
  const config = resolveConfig({ ...raw, port }, { file: path.join(dir, 'extensions.config.mjs'), projectDir: dir });
  const project: TestProject = {
    dir,
    config,
    writeConfigFile(content) {
      const file = path.join(dir, 'extensions.config.mjs');
      fs.writeFileSync(file, `export default ${JSON.stringify(content, null, 2)};\n`);
      return file;
    },
    async remove() {
      await stopQuietly(config);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return project;
}

/** Stops a project's cluster if one runs there (pg_ctl stop as the right user). */
async function stopQuietly(config: ResolvedConfig): Promise<void> {
  try {
    const target = await selectTarget(config, { env: testEnv(config) });
    if (target.kind !== 'external') {
      // A throwaway test cluster keeps its data in /dev/shm: stop it and free that memory too.
      await removeTestCluster(target).catch(() => {});
      await target.cluster.stop();
      if (target.layout.relocated) fs.rmSync(target.layout.runtimeDir, { recursive: true, force: true });
    }
  } catch {
    // No engine found from this environment (a system engine started with its own PG_BIN): stop the server by its pid.
    for (const dataDir of [config.dataDir ?? path.join(config.stateDir, 'data'), path.join(relocationDir(config.projectDir), 'data')]) {
      const pid = Number(fs.existsSync(path.join(dataDir, 'postmaster.pid')) ? fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] : NaN);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        continue; // Gone already.
      }
      await waitForExit(pid);
    }
    fs.rmSync(relocationDir(config.projectDir), { recursive: true, force: true });
    fs.rmSync(relocationDir(config.projectDir, 'test'), { recursive: true, force: true });
  }
}

/** The environment engine selection sees in tests: PGSTRAP_URL never leaks in from the developer's shell. */
export function testEnv(_config?: ResolvedConfig, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.PGSTRAP_URL;
  return { ...env, ...extra };
}

/** Runs steps as the pipeline does, without a renderer (the lines they log go to `lines`); returns their reports. */
export function runStepsQuietly(steps: Step[], config: ResolvedConfig, target: Target, lines: string[] = []): Promise<StepReport[]> {
  return runStepsPlain(steps, { config, target, reports: [] }, (line) => lines.push(line));
}

/** Resolves the managed target of a project. */
export async function managedTarget(project: TestProject, overrides: EngineOverrides = {}): Promise<ManagedTarget> {
  const target = await selectTarget(project.config, { env: testEnv(), ...overrides });
  if (target.kind === 'external') throw new Error('expected a managed target');
  return target;
}

/** Runs a query on `database` of the target and returns its rows. */
export async function query<R extends pg.QueryResultRow = Record<string, unknown>>(
  target: Target,
  database: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  return withClient(connectionFor(target, database), async (c) => (await c.query<R>(sql, params)).rows);
}

/** Debian's PostgreSQL server binaries of `major`, or why they are absent (so the test can say it skipped). */
export async function debianPostgres(major: number): Promise<{ binDir: string } | { skip: string }> {
  const binDir = `/usr/lib/postgresql/${major}/bin`;
  if (!fs.existsSync(path.join(binDir, 'postgres'))) {
    return { skip: `Debian postgresql-${major} is not installed (apt-get install postgresql-${major}; .ci/run does)` };
  }
  const version = await probeVersion(binDir);
  return version?.major === major ? { binDir } : { skip: `${binDir} does not hold PostgreSQL ${major}` };
}

/** Runs the CLI in a child process, as a user would: through the launcher npm scripts call. */
export async function runCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }) {
  return run(process.execPath, [path.join(REPO_ROOT, 'scripts/pgstrap.mjs'), ...args], {
    cwd: options.cwd,
    env: { ...testEnv(), CI: 'true', NO_COLOR: '1', ...options.env },
    reject: false,
    timeoutMs: 180_000,
  });
}

/** Kills a managed cluster's postmaster with SIGKILL (a crash) and waits until it is gone; returns its pid. */
export async function killPostmaster(target: ManagedTarget, timeoutMs = 10_000): Promise<number> {
  const pid = target.cluster.status().pid;
  if (pid === undefined) throw new Error('the cluster is not running');
  process.kill(pid, 'SIGKILL');
  // Backends notice the postmaster's death and exit on their own; the pid must be gone before a restart.
  if (!(await waitForExit(pid, timeoutMs))) throw new Error(`pid ${pid} is still alive ${timeoutMs} ms after SIGKILL`);
  return pid;
}

/** Waits until `pid` is gone; false when it is still alive after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** A CLI run in its own process group, whose output can be watched while it runs (to kill it at a chosen moment). */
export interface SpawnedCli {
  pid: number;
  /** Everything printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves once the output matches `pattern` (or `condition` holds), polling every 20 ms; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp | (() => boolean), timeoutMs?: number): Promise<void>;
  /** SIGKILLs the whole process group: the CLI and every program it started that did not detach. */
  killGroup(): void;
  /** The exit code (null when killed by a signal) and the output. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

/** Starts the CLI as runCli does, detached into a process group of its own. */
export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): SpawnedCli {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts/pgstrap.mjs'), ...args], {
    cwd: options.cwd,
    env: { ...testEnv(), CI: 'true', NO_COLOR: '1', ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk) => (text += String(chunk)));
  child.stderr!.on('data', (chunk) => (text += String(chunk)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, output: text })),
  );
  return {
    pid: child.pid!,
    output: () => text,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const met = () => (typeof pattern === 'function' ? pattern() : pattern.test(text));
      while (!met()) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the CLI ended before ${String(pattern)}; it printed:\n${text}`);
        if (Date.now() > deadline) throw new Error(`${String(pattern)} did not happen within ${timeoutMs} ms; the CLI printed:\n${text}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    killGroup() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
    exited,
  };
}
