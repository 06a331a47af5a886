/** `pgstrap init`'s planner (pure): what it creates, merges and leaves, from an app's files as text. */
import { describe, expect, it } from 'vitest';
import { ENVRC_MARKER, flakeUrlOfSpec, planInit, renderInitPlan, type AppSnapshot, type InitSources } from '../../scripts/init/plan.ts';
import { isPgstrapError } from '../../scripts/shared/errors.ts';

const SOURCES: InitSources = {
  templates: { 'flake.nix': '{ flake }\n', 'flake.lock': '{ lock }\n', 'nix/shell-hook.sh': '# hook\n' },
  envrc: '# pgstrap envrc\nuse_pgstrap\n',
  nixExtensions: '{ "extensions": [] }\n',
};

function app(fields: Partial<AppSnapshot> & { pkg?: Record<string, unknown> } = {}): AppSnapshot {
  const { pkg, ...rest } = fields;
  return { packageJson: `${JSON.stringify(pkg ?? { name: 'shop', type: 'module' }, null, 2)}\n`, files: {}, migrations: 'absent', ...rest };
}

/** The files as they are after applying `plan` to `before`. */
function applied(before: AppSnapshot, plan: ReturnType<typeof planInit>): AppSnapshot {
  const files = { ...before.files };
  let packageJson = before.packageJson;
  for (const action of plan.actions) {
    if (action.kind === 'write' && action.file === 'package.json') packageJson = action.text;
    else if (action.kind === 'write') files[action.file] = action.text;
  }
  return { packageJson, files, migrations: plan.actions.some((a) => a.kind === 'mkdir') ? 'directory' : before.migrations };
}

describe('planInit', () => {
  it('creates everything in an app that has none of it, and plans nothing on a second run', () => {
    const before = app();
    const plan = planInit(before, SOURCES);
    expect(plan.actions.map((a) => a.file)).toEqual(['extensions.config.ts', 'flake.lock', 'flake.nix', 'nix/shell-hook.sh', 'nix/extensions.json', '.envrc', '.gitignore', 'package.json', 'migrations']);
    expect(plan.left).toEqual([]);
    expect(plan.setupScript).toBe('db:setup');
    const second = planInit(applied(before, plan), SOURCES);
    expect(second.actions).toEqual([]);
    expect(renderInitPlan(second, { dryRun: false })).toBe('Nothing to do: this app is already set up for pgstrap.');
  });

  it('writes the two-line flake with pgstrap as an input when the app installs pgstrap from git, the copied flake otherwise', () => {
    const fromGit = planInit(app({ pkg: { name: 'shop', type: 'module', devDependencies: { pgstrap: 'git+https://git.example.com/org/pgstrap.git#v0.2.0' } } }), SOURCES);
    const flake = fromGit.actions.find((a) => a.file === 'flake.nix');
    expect(flake?.kind === 'write' && flake.text).toContain('inputs.pgstrap.url = "git+https://git.example.com/org/pgstrap.git?ref=v0.2.0";');
    expect(flake?.kind === 'write' && flake.text).toContain('pgstrap.lib.mkOutputs { extensionsFile = ./nix/extensions.json; }');
    // The input brings the hook and the lock is nix's to write: nothing else of the package's flake is copied.
    expect(fromGit.actions.map((a) => a.file)).not.toContain('flake.lock');
    expect(fromGit.actions.map((a) => a.file)).not.toContain('nix/shell-hook.sh');
    expect(fromGit.actions.map((a) => a.file)).toContain('nix/extensions.json');
    const fromTarball = planInit(app({ pkg: { name: 'shop', type: 'module', devDependencies: { pgstrap: 'file:../pgstrap-0.1.0.tgz' } } }), SOURCES);
    expect(fromTarball.actions.find((a) => a.file === 'flake.nix')).toMatchObject({ text: '{ flake }\n' });
    expect(fromTarball.actions.map((a) => a.file)).toContain('flake.lock');
  });

  it("maps npm's git specs to flake URLs, and nothing else", () => {
    expect(flakeUrlOfSpec('github:acme/pgstrap')).toBe('github:acme/pgstrap');
    expect(flakeUrlOfSpec('github:acme/pgstrap#main')).toBe('github:acme/pgstrap/main');
    expect(flakeUrlOfSpec('git+ssh://git@host/acme/pgstrap.git')).toBe('git+ssh://git@host/acme/pgstrap.git');
    expect(flakeUrlOfSpec(`git+https://host/acme/pgstrap.git#${'a'.repeat(40)}`)).toBe(`git+https://host/acme/pgstrap.git?rev=${'a'.repeat(40)}`);
    expect(flakeUrlOfSpec('file:../pgstrap-0.1.0.tgz')).toBeUndefined();
    expect(flakeUrlOfSpec('^0.1.0')).toBeUndefined();
    expect(flakeUrlOfSpec(undefined)).toBeUndefined();
  });

  it('writes extensions.config.mts in an app that is not "type": "module", and keeps any config the app has', () => {
    expect(planInit(app({ pkg: { name: 'cjs' } }), SOURCES).configFile).toBe('extensions.config.mts');
    const kept = planInit(app({ files: { 'extensions.config.mjs': 'export default {};\n' } }), SOURCES);
    expect(kept.configFile).toBe('extensions.config.mjs');
    expect(kept.actions.some((a) => a.file.startsWith('extensions.config'))).toBe(false);
  });

  it('merges package.json scripts without clobbering, keeping its indentation and order; names what it left', () => {
    const packageJson = '{\n    "name": "shop",\n    "scripts": {\n        "doctor": "eslint .",\n        "pgstrap:doctor": "echo mine",\n        "db:setup": "docker compose up",\n        "migrate": "pgstrap migrate"\n    }\n}\n';
    const plan = planInit({ packageJson, files: {}, migrations: 'directory' }, SOURCES);
    const write = plan.actions.find((a) => a.file === 'package.json');
    expect(write?.kind).toBe('write');
    const text = write?.kind === 'write' ? write.text : '';
    expect(text).toMatch(/^\{\n {4}"name": "shop",\n {4}"scripts": \{\n {8}"doctor": "eslint \.",/);
    const scripts = (JSON.parse(text) as { scripts: Record<string, string> }).scripts;
    expect(scripts).toMatchObject({ doctor: 'eslint .', 'pgstrap:doctor': 'echo mine', 'db:setup': 'docker compose up', 'pgstrap:setup': 'pgstrap setup', migrate: 'pgstrap migrate', 'db:stop': 'pgstrap stop' });
    expect(plan.setupScript).toBe('pgstrap:setup');
    expect(plan.left).toEqual([
      'package.json: scripts "db:setup" runs `docker compose up`; left as it is, added "pgstrap:setup" instead',
      'package.json: scripts "doctor" and "pgstrap:doctor" run other commands; left as they are (`npx pgstrap doctor` does the same)',
    ]);
    expect(plan.actions.some((a) => a.kind === 'mkdir')).toBe(false);
  });

  it('adds only the .gitignore lines missing, in any form the app wrote them', () => {
    const plan = planInit(app({ files: { '.gitignore': 'node_modules\n/.pgstrap\n' } }), SOURCES);
    const write = plan.actions.find((a) => a.file === '.gitignore');
    expect(write?.kind === 'write' && write.text).toBe('node_modules\n/.pgstrap\n\n# pgstrap: the project-local cluster\'s state, and direnv\'s cache.\n.direnv/\n');
    expect(planInit(app({ files: { '.gitignore': '.pgstrap/\n.direnv\n' } }), SOURCES).actions.some((a) => a.file === '.gitignore')).toBe(false);
  });

  it('never replaces a flake file or nix/extensions.json that differs, and names each', () => {
    const plan = planInit(app({ files: { 'flake.nix': '{ mine }\n', 'nix/extensions.json': '{}\n', 'flake.lock': SOURCES.templates['flake.lock'] } }), SOURCES);
    expect(plan.actions.map((a) => a.file)).not.toEqual(expect.arrayContaining(['flake.nix']));
    expect(plan.actions.map((a) => a.file)).not.toContain('flake.lock');
    expect(plan.left).toEqual([
      'flake.nix: the app has its own; left as it is (pgstrap\'s is in node_modules/pgstrap/flake.nix)',
      'nix/extensions.json: differs from what extensions.config.ts gives; left as it is (`npx pgstrap setup` refreshes it)',
    ]);
  });

  it("appends pgstrap's .envrc to the app's own once, between markers", () => {
    const before = app({ files: { '.envrc': 'dotenv\n' } });
    const plan = planInit(before, SOURCES);
    const write = plan.actions.find((a) => a.file === '.envrc');
    expect(write?.kind === 'write' && write.text).toBe(`dotenv\n\n${ENVRC_MARKER}\n# pgstrap envrc\nuse_pgstrap\n# <<< pgstrap <<<\n`);
    expect(planInit(applied(before, plan), SOURCES).actions).toEqual([]);
  });

  it('names a migrations path that is not a folder, and an app config that does not load', () => {
    const plan = planInit(app({ migrations: 'other' }), { ...SOURCES, nixExtensions: undefined, nixExtensionsProblem: 'extensions.config.ts does not load (boom)' });
    expect(plan.left).toEqual([
      'nix/extensions.json: not written: extensions.config.ts does not load (boom); `npx pgstrap setup` writes it once it does',
      'migrations: exists and is not a folder; set migrations.directory in the config to another folder',
    ]);
  });

  it('refuses a package.json that is not JSON, before planning anything', () => {
    try {
      planInit({ packageJson: '{', files: {}, migrations: 'absent' }, SOURCES);
      throw new Error('expected an error');
    } catch (error) {
      expect(isPgstrapError(error) && error.code).toBe('init.package-json');
    }
  });
});
