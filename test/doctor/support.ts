/**
 * Doctor test helpers: a project whose config can change between runs, a doctor run in this process, and
 * a way to run a check's fix hint as a developer would type it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { runDoctor, type DoctorRun } from '../../scripts/doctor/run.ts';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import type { Check } from '../../scripts/doctor/model.ts';
import { run } from '../../scripts/server/process.ts';
import { makeProject, REPO_ROOT, runCli, testEnv, type TestProject } from '../support/project.ts';

/** A test project plus the config file doctor reads; `configure` writes a new one. */
export interface DoctorProject {
  project: TestProject;
  /** The current config file (a new name per change: Node caches an imported module by its URL). */
  configFile: string;
  configure(raw: PgstrapConfig): string;
}

let serial = 0;

/** A project on the embedded engine with `raw` as its config, written to a file. */
export async function doctorProject(raw: PgstrapConfig = {}): Promise<DoctorProject> {
  const project = await makeProject({ engine: 'embedded', ...raw });
  const port = project.config.port;
  const result: DoctorProject = {
    project,
    configFile: '',
    configure(next) {
      serial += 1;
      const file = path.join(project.dir, `doctor-${serial}.config.mjs`);
      fs.writeFileSync(file, `export default ${JSON.stringify({ engine: 'embedded', port, ...next }, null, 2)};\n`);
      result.configFile = file;
      return file;
    },
  };
  result.configure(raw);
  return result;
}

/** A project brought up by `npm run setup` (the CLI, as a developer runs it). */
export async function setUpProject(raw: PgstrapConfig): Promise<DoctorProject> {
  const p = await doctorProject(raw);
  const setup = await runCli(['setup', '--config', p.configFile], { cwd: p.project.dir });
  expect(setup.exitCode, `${setup.stdout}\n${setup.stderr}`).toBe(0);
  return p;
}

/** Runs doctor in this process against the project's current config. */
export function doctor(p: DoctorProject, strict = false): Promise<DoctorRun> {
  return runDoctor({ cwd: p.project.dir, config: p.configFile, env: testEnv() }, strict);
}

/** The check with `id`; fails the test, listing the ids there are, when it is absent. */
/** True on a Node older than pgstrap recommends (22, Node 20 being past its end of life): doctor then warns toolchain.pgstrap-node, as it should. */
export const OLD_NODE = Number(process.versions.node.split('.')[0]) < 22;

/** The checks that are not ok, less the old-Node warning where this machine's Node is older than 22. */
export function notOk(result: DoctorRun): Check[] {
  return result.checks.filter((c) => c.status !== 'ok' && !(OLD_NODE && c.id === 'toolchain.pgstrap-node' && c.status === 'warn'));
}

export function checkOf(result: DoctorRun, id: string): Check {
  const found = result.checks.find((c) => c.id === id);
  expect(found, `no check ${id}; checks: ${result.checks.map((c) => c.id).join(', ')}`).toBeDefined();
  return found!;
}

/** The repository's npm scripts, to run `npm run X` hints through the CLI as npm would. */
const SCRIPTS = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The commands in a fix hint: the backticked ones when it has any, else the hint itself; `&&` chains run in order. */
export function hintCommands(fix: string): string[] {
  const quoted = [...fix.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  const text = quoted.find((q) => /^(npm run|chmod|chown)\b/.test(q)) ?? fix;
  return text.split('&&').map((c) => c.trim()).filter(Boolean);
}

/**
 * Runs a check's fix hint in the project: `npm run <script> [-- args]` through the CLI with the project's
 * config, anything else (chmod) through sh. Fails the test when a command fails.
 */
export async function runFix(p: DoctorProject, check: Check): Promise<void> {
  expect(check.fix, `${check.id} has no fix hint`).toBeDefined();
  for (const command of hintCommands(check.fix!)) {
    const npm = /^npm run (?:--silent )?(\S+)(?: -- (.*))?$/.exec(command);
    if (npm) {
      const script = SCRIPTS[npm[1]!];
      const cli = script && /scripts\/pgstrap\.mjs (\S+)$/.exec(script);
      expect(cli, `${npm[1]} is not a pgstrap script`).toBeTruthy();
      const args = npm[2] ? npm[2].split(/\s+/) : [];
      const result = await runCli([cli![1]!, ...args, '--config', p.configFile], { cwd: p.project.dir });
      expect(result.exitCode, `${command} failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
    } else {
      const result = await run('sh', ['-c', command], { cwd: p.project.dir, reject: false });
      expect(result.exitCode, `${command} failed: ${result.stderr}`).toBe(0);
    }
  }
}
