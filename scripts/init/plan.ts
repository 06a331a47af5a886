/**
 * `pgstrap init`'s planner: given what an app has (its files' text, read by apply.ts), what to create, what to
 * merge into, and what to leave alone because it differs. Pure: it never reads or writes the disk, so a
 * `--dry-run` and the real run show the same plan, and a second run plans nothing.
 */
import { CONFIG_FILES } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';

/** The npm scripts init adds, by the name it prefers, with the command each runs. */
export const INIT_SCRIPTS: ReadonlyArray<{ name: string; command: string }> = [
  { name: 'db:setup', command: 'pgstrap setup' },
  { name: 'db:start', command: 'pgstrap start' },
  { name: 'db:stop', command: 'pgstrap stop' },
  { name: 'db:status', command: 'pgstrap status' },
  // `env`, not `db:env`: the .envrc and the dev shell's hook run `npm run --silent env`, and without a script of
  // that name npm prints its own environment instead.
  { name: 'env', command: 'pgstrap env' },
  { name: 'doctor', command: 'pgstrap doctor' },
  { name: 'verify', command: 'pgstrap verify' },
  { name: 'migrate', command: 'pgstrap migrate' },
  { name: 'migrate:status', command: 'pgstrap migrate:status' },
  { name: 'migrate:new', command: 'pgstrap migrate:new' },
  { name: 'migrate:down', command: 'pgstrap migrate:down' },
];

/** Lines init makes sure .gitignore has: the cluster's state, and direnv's cache (.envrc writes it). */
export const GITIGNORE_LINES = ['.pgstrap/', '.direnv/'] as const;

/** Marks the part of an app's own .envrc that init appended, so a second run sees it. */
export const ENVRC_MARKER = '# >>> pgstrap (added by `pgstrap init`) >>>';
const ENVRC_END = '# <<< pgstrap <<<';

/** What init reads of the app; `undefined` is an absent file. */
export interface AppSnapshot {
  /** The app's package.json text (init refuses to run without one). */
  packageJson: string;
  /** Existing text of every file init may write, by path relative to the app. */
  files: Record<string, string | undefined>;
  /** What is at `migrations`: nothing, a folder, or something else (a file). */
  migrations: 'absent' | 'directory' | 'other';
}

/** What init writes from the package: the flake's files, copied as they ship. */
export interface InitSources {
  /** Path relative to the app (flake.nix, flake.lock, nix/shell-hook.sh, ...) -> the text the package ships. */
  templates: Record<string, string>;
  /** The .envrc the package ships. */
  envrc: string;
  /** nix/extensions.json rendered from the app's config (the one init writes, or the one it has). */
  nixExtensions: string | undefined;
  /** Why nix/extensions.json cannot be rendered (the app's own config does not load); named in the plan. */
  nixExtensionsProblem?: string | undefined;
}

/** One change init makes. */
export type InitAction =
  | { kind: 'write'; file: string; text: string; summary: string }
  | { kind: 'mkdir'; file: string; summary: string };

/** The plan: changes, and what init leaves as it is and why. */
export interface InitPlan {
  actions: InitAction[];
  /** Files or entries init did not touch because the app has its own, one sentence each. */
  left: string[];
  /** The name of the npm script that runs `pgstrap setup` (db:setup, or the fallback name init chose). */
  setupScript: string | undefined;
  /** The config file the app has or gets. */
  configFile: string;
}

/** The config file init writes: `.ts` in an ESM app (`"type": "module"`), else `.mts`, which TypeScript and Node always treat as ESM. */
export function configFileFor(packageJson: Record<string, unknown>): string {
  return packageJson.type === 'module' ? 'extensions.config.ts' : 'extensions.config.mts';
}

/** The starting config: every default, named so a team sees what it can change. */
export function renderInitConfig(): string {
  return [
    "import { defineConfig } from 'pgstrap';",
    '',
    "// This project's PostgreSQL: pgstrap's README lists every key. Migrations go in migrations/ (`npm run migrate:new <name>`).",
    'export default defineConfig({',
    '  postgresMajor: 17,',
    "  databases: ['app'],",
    '  extensions: [],',
    '});',
    '',
  ].join('\n');
}

/** The indentation a JSON text uses (two spaces when it cannot tell). */
function indentOf(text: string): string | number {
  const match = /^[{[]\s*\n([ \t]+)\S/.exec(text);
  return match ? match[1]! : 2;
}

/** Plans package.json's scripts: add the missing ones, keep every existing one, choose another name where one is taken. */
function planScripts(text: string, left: string[]): { text: string | undefined; added: string[]; setupScript: string | undefined } {
  const pkg = JSON.parse(text) as Record<string, unknown>;
  const scripts = { ...((pkg.scripts as Record<string, string> | undefined) ?? {}) };
  const added: string[] = [];
  let setupScript: string | undefined;
  for (const { name, command } of INIT_SCRIPTS) {
    const candidates = [name, `pgstrap:${name.replace(/^db:/, '')}`];
    const same = candidates.find((c) => scripts[c] === command);
    const free = candidates.find((c) => scripts[c] === undefined);
    const chosen = same ?? free;
    if (chosen === undefined) {
      left.push(`package.json: scripts "${candidates.join('" and "')}" run other commands; left as they are (\`npx ${command}\` does the same)`);
      continue;
    }
    if (chosen !== name && same === undefined) left.push(`package.json: scripts "${name}" runs \`${scripts[name]}\`; left as it is, added "${chosen}" instead`);
    if (command === 'pgstrap setup') setupScript = chosen;
    if (same !== undefined) continue;
    scripts[chosen] = command;
    added.push(chosen);
  }
  if (added.length === 0) return { text: undefined, added, setupScript };
  const next = { ...pkg, scripts };
  return { text: `${JSON.stringify(next, null, indentOf(text))}${text.endsWith('\n') ? '\n' : ''}`, added, setupScript };
}

/** The .gitignore text with the missing lines appended, or undefined when it has them all. */
function planGitignore(text: string | undefined): { text: string | undefined; added: string[] } {
  const have = new Set((text ?? '').split(/\r?\n/).map((l) => l.trim()));
  // `.pgstrap` and `/.pgstrap/` ignore the same folder.
  const missing = GITIGNORE_LINES.filter((line) => ![line, line.replace(/\/$/, ''), `/${line}`, `/${line.replace(/\/$/, '')}`].some((form) => have.has(form)));
  if (missing.length === 0) return { text: undefined, added: [] };
  const base = text === undefined || text === '' ? '' : text.endsWith('\n') ? text : `${text}\n`;
  return { text: `${base}${base === '' ? '' : '\n'}# pgstrap: the project-local cluster's state, and direnv's cache.\n${missing.join('\n')}\n`, added: missing };
}

/**
 * pgstrap's flake URL when the app installs it from git (npm's spec in package.json), so init can write the
 * two-line flake with pgstrap as an input; undefined for a tarball, a folder or the registry, where the package
 * has no URL a flake could pin (init then copies the package's own flake, the same `lib.mkOutputs`).
 */
export function flakeUrlOfSpec(spec: unknown): string | undefined {
  if (typeof spec !== 'string') return undefined;
  const github = /^github:([\w.-]+\/[\w.-]+?)(?:\.git)?(?:#(.+))?$/.exec(spec);
  if (github) return `github:${github[1]}${github[2] ? `/${github[2]}` : ''}`;
  const git = /^(git\+(?:https|ssh|http|file):\/\/[^#]+)(?:#(.+))?$/.exec(spec);
  if (!git) return undefined;
  const ref = git[2];
  if (ref === undefined) return git[1];
  return `${git[1]}?${/^[0-9a-f]{40}$/.test(ref) ? 'rev' : 'ref'}=${encodeURIComponent(ref)}`;
}

/** The app's flake.nix with pgstrap as an input: the whole dev shell from the app's nix/extensions.json. */
export function renderConsumerFlake(url: string): string {
  return `{
  description = "The app's dev shell: PostgreSQL with the extensions extensions.config.ts declares (pgstrap)";

  inputs.pgstrap.url = ${JSON.stringify(url)};

  # devShells, packages.postgres and checks for every system, from the list \`pgstrap setup\` writes.
  outputs = { self, pgstrap }: pgstrap.lib.mkOutputs { extensionsFile = ./nix/extensions.json; };
}
`;
}

/** What init plans for `app`, writing `sources`. */
export function planInit(app: AppSnapshot, sources: InitSources): InitPlan {
  const actions: InitAction[] = [];
  const left: string[] = [];
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(app.packageJson) as Record<string, unknown>;
  } catch (error) {
    throw new PgstrapError({ code: 'init.package-json', message: `package.json is not valid JSON: ${(error as Error).message}`, remedy: 'Fix package.json, then run `npx pgstrap init` again; nothing was written.', exit: ExitCode.usage });
  }

  // The config: one is enough, whichever form the app has.
  const existingConfig = CONFIG_FILES.find((f) => app.files[f] !== undefined);
  const configFile = existingConfig ?? configFileFor(pkg);
  if (existingConfig === undefined) actions.push({ kind: 'write', file: configFile, text: renderInitConfig(), summary: `create ${configFile} (PostgreSQL 17, database app, no extensions)` });

  // Files copied as the package ships them: created when absent, never replaced when they differ.
  const copy = (file: string, text: string, what: string) => {
    const have = app.files[file];
    if (have === undefined) actions.push({ kind: 'write', file, text, summary: `create ${file} (${what})` });
    else if (have !== text) left.push(`${file}: the app has its own; left as it is (pgstrap's is in node_modules/pgstrap/${file})`);
  };
  // Installed from git: a two-line flake with pgstrap as an input (nix writes flake.lock on first use); else the
  // package's own flake files, copied.
  const deps = { ...(pkg.dependencies as Record<string, unknown> | undefined), ...(pkg.devDependencies as Record<string, unknown> | undefined) };
  const flakeUrl = flakeUrlOfSpec(deps.pgstrap);
  const templates = flakeUrl === undefined ? sources.templates : { 'flake.nix': renderConsumerFlake(flakeUrl) };
  const what = (file: string) =>
    file === 'flake.lock' ? 'the pinned nixpkgs' : file !== 'flake.nix' ? "the dev shell's files" : flakeUrl ? `the dev shell, with pgstrap as an input: ${flakeUrl}` : 'the dev shell with PostgreSQL and its extensions';
  for (const [file, text] of Object.entries(templates).sort(([a], [b]) => (a < b ? -1 : 1))) copy(file, text, what(file));

  const nixFile = 'nix/extensions.json';
  if (sources.nixExtensions === undefined) left.push(`${nixFile}: not written: ${sources.nixExtensionsProblem ?? 'the config does not load'}; \`npx pgstrap setup\` writes it once it does`);
  else if (app.files[nixFile] === undefined) actions.push({ kind: 'write', file: nixFile, text: sources.nixExtensions, summary: `create ${nixFile} (what the flake builds, from ${configFile})` });
  else if (app.files[nixFile] !== sources.nixExtensions) left.push(`${nixFile}: differs from what ${configFile} gives; left as it is (\`npx pgstrap setup\` refreshes it)`);

  // .envrc: the app's own gets pgstrap's appended once, between markers.
  const envrc = app.files['.envrc'];
  if (envrc === undefined) actions.push({ kind: 'write', file: '.envrc', text: sources.envrc, summary: 'create .envrc (direnv: the dev shell, or `pgstrap env` without Nix; run `direnv allow`)' });
  else if (envrc !== sources.envrc && !envrc.includes(ENVRC_MARKER)) {
    const base = envrc.endsWith('\n') ? envrc : `${envrc}\n`;
    actions.push({ kind: 'write', file: '.envrc', text: `${base}\n${ENVRC_MARKER}\n${sources.envrc.endsWith('\n') ? sources.envrc : `${sources.envrc}\n`}${ENVRC_END}\n`, summary: "append pgstrap's part to .envrc (between pgstrap markers; run `direnv allow`)" });
  }

  const gitignore = planGitignore(app.files['.gitignore']);
  if (gitignore.text !== undefined) {
    actions.push({ kind: 'write', file: '.gitignore', text: gitignore.text, summary: `${app.files['.gitignore'] === undefined ? 'create' : 'add to'} .gitignore: ${gitignore.added.join(', ')}` });
  }

  const scripts = planScripts(app.packageJson, left);
  if (scripts.text !== undefined) actions.push({ kind: 'write', file: 'package.json', text: scripts.text, summary: `add scripts to package.json: ${scripts.added.join(', ')}` });

  if (app.migrations === 'absent') actions.push({ kind: 'mkdir', file: 'migrations', summary: 'create migrations/ (empty: your migrations go here)' });
  else if (app.migrations === 'other') left.push('migrations: exists and is not a folder; set migrations.directory in the config to another folder');

  return { actions, left, setupScript: scripts.setupScript, configFile };
}

/** The plan as lines for the terminal. */
export function renderInitPlan(plan: InitPlan, options: { dryRun: boolean }): string {
  const lines: string[] = [];
  if (plan.actions.length === 0) lines.push('Nothing to do: this app is already set up for pgstrap.');
  else {
    lines.push(options.dryRun ? 'pgstrap init would:' : 'pgstrap init:');
    for (const action of plan.actions) lines.push(`  ${action.summary}`);
  }
  if (plan.left.length > 0) {
    lines.push('Left as they are:');
    for (const line of plan.left) lines.push(`  ${line}`);
  }
  if (plan.actions.length > 0 && !options.dryRun) {
    const setup = plan.setupScript !== undefined ? `npm run ${plan.setupScript}` : 'npx pgstrap setup';
    lines.push(`Next: ${setup} (cluster, databases, extensions, uuidv7(), migrations); commit ${plan.configFile}, flake.nix, flake.lock, nix/ and .envrc.`);
  }
  return lines.join('\n');
}
