/**
 * `pgstrap init`'s effects: reads the app's files and the files the package ships, asks plan.ts what to do,
 * and writes it. A file is created only where none exists (`wx`), and a merged file is replaced only while it
 * still holds what was planned from, so a change made meanwhile is never lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import { CONFIG_FILES, type PgstrapConfig } from '../config/types.ts';
import { resolveConfig } from '../config/validate.ts';
import { renderNixExtensions } from '../nix/extensions-json.ts';
import { readIfExists } from '../nix/step.ts';
import { ExitCode, messageOf, PgstrapError } from '../shared/errors.ts';
import { installRoot } from '../shared/install-root.ts';
import { planInit, type AppSnapshot, type InitPlan, type InitSources } from './plan.ts';
import { writeFileAtomic } from '../shared/write-file.ts';

/** The config init writes, as an object (renderInitConfig is its text). */
const INIT_CONFIG: PgstrapConfig = { postgresMajor: 17, databases: ['app'], extensions: [] };

/** The flake's files the package ships, relative to its root: flake.nix, flake.lock and nix/ (not nix/extensions.json, which init renders). */
export function readTemplates(root: string = installRoot()): Record<string, string> {
  const templates: Record<string, string> = {};
  for (const file of ['flake.nix', 'flake.lock']) {
    const text = readIfExists(path.join(root, file));
    if (text !== undefined) templates[file] = text;
  }
  const nixDir = path.join(root, 'nix');
  for (const name of fs.existsSync(nixDir) ? fs.readdirSync(nixDir).sort() : []) {
    if (name === 'extensions.json' || !fs.statSync(path.join(nixDir, name)).isFile()) continue;
    templates[`nix/${name}`] = fs.readFileSync(path.join(nixDir, name), 'utf8');
  }
  return templates;
}

/** What init plans from: the app's files (`appDir`) and the package's. */
export async function readInitInputs(appDir: string, root: string = installRoot()): Promise<{ app: AppSnapshot; sources: InitSources }> {
  const packageJson = readIfExists(path.join(appDir, 'package.json'));
  if (packageJson === undefined) {
    throw new PgstrapError({
      code: 'init.no-package-json',
      message: `${appDir} has no package.json`,
      remedy: 'Run `pgstrap init` in the app\'s folder (where package.json is), or `npm init -y` first.',
      exit: ExitCode.usage,
    });
  }
  const templates = readTemplates(root);
  const files: Record<string, string | undefined> = {};
  for (const file of [...CONFIG_FILES, ...Object.keys(templates), 'nix/extensions.json', '.envrc', '.gitignore']) files[file] = readIfExists(path.join(appDir, file));
  const migrationsPath = path.join(appDir, 'migrations');
  const migrations = !fs.existsSync(migrationsPath) ? 'absent' : fs.statSync(migrationsPath).isDirectory() ? 'directory' : 'other';

  // nix/extensions.json follows the app's own config when it has one, else the one init writes.
  let nixExtensions: string | undefined;
  let nixExtensionsProblem: string | undefined;
  const existing = CONFIG_FILES.find((f) => files[f] !== undefined);
  try {
    const config = existing !== undefined
      ? await loadConfig({ cwd: appDir, explicitPath: existing })
      : resolveConfig(INIT_CONFIG, { file: path.join(appDir, 'extensions.config.ts'), projectDir: appDir });
    nixExtensions = renderNixExtensions(config).text;
  } catch (error) {
    nixExtensionsProblem = `${existing ?? 'the config'} does not load (${messageOf(error)})`;
  }
  const envrc = readIfExists(path.join(root, '.envrc')) ?? '';
  return { app: { packageJson, files, migrations }, sources: { templates, envrc, nixExtensions, nixExtensionsProblem } };
}

/** Writes the plan's changes under `appDir`; `planned` is each file's text the plan was made from. */
export function applyInitPlan(appDir: string, plan: InitPlan, planned: AppSnapshot): void {
  for (const action of plan.actions) {
    const file = path.join(appDir, action.file);
    if (action.kind === 'mkdir') {
      fs.mkdirSync(file, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const before = action.file === 'package.json' ? planned.packageJson : planned.files[action.file];
    if (before === undefined) {
      try {
        fs.writeFileSync(file, action.text, { flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        throw changedMeanwhile(action.file);
      }
      continue;
    }
    if (readIfExists(file) !== before) throw changedMeanwhile(action.file);
    writeFileAtomic(file, action.text, { mode: fs.statSync(file).mode });
  }
}

function changedMeanwhile(file: string): PgstrapError {
  return new PgstrapError({
    code: 'init.changed',
    message: `${file} changed while pgstrap init ran; it was left as it is`,
    remedy: 'Run `npx pgstrap init` again: it plans from what the files hold now.',
    exit: ExitCode.failure,
  });
}

/** Plans (and unless `dryRun`, applies) init in `appDir`. */
export async function runInit(appDir: string, options: { dryRun: boolean }): Promise<InitPlan> {
  const { app, sources } = await readInitInputs(appDir);
  const plan = planInit(app, sources);
  if (!options.dryRun) applyInitPlan(appDir, plan, app);
  return plan;
}
