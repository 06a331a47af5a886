/**
 * Adoption, as a user does it: `npm pack` this repository, make a small existing app (its own package.json,
 * a tsconfig without `include`, a .gitignore), install the tarball, `npx pgstrap init`, run the setup script
 * init chose, and check that the app's tsc is unaffected, no demo table exists, and a second such app runs
 * at the same time on its own port with no port configured anywhere.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPortFor } from '../../scripts/config/default-port.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { REPO_ROOT, testEnv } from '../support/project.ts';

const TSC = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');

interface App {
  dir: string;
  /** Runs a command in the app as its user would (npx and npm scripts find node_modules/.bin). */
  sh(command: string, args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-adopt-'));
fs.chmodSync(scratch, 0o755);
const apps: App[] = [];
let tarball = '';

/** An existing app: its own scripts (one named like pgstrap's), TypeScript without `include`, a .gitignore. */
function makeApp(): App {
  let dir = '';
  // Two folders whose derived ports collide (one chance in 1,000) would test nothing: take another folder.
  do dir = fs.mkdtempSync(path.join(scratch, 'app-'));
  while (apps.some((a) => defaultPortFor(a.dir) === defaultPortFor(dir)));
  fs.chmodSync(dir, 0o755);
  const pkg = { name: path.basename(dir), version: '1.0.0', type: 'module', scripts: { doctor: 'node -e "console.log(\'the app\\\'s own doctor\')"', build: 'tsc' } };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), `${JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, types: [] } }, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\ndist/\n');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'index.ts'), 'export const answer: number = 42;\n');
  const env: NodeJS.ProcessEnv = { ...testEnv(), CI: 'true', NO_COLOR: '1', npm_config_update_notifier: 'false' };
  delete env.PG_BIN;
  const app: App = {
    dir,
    async sh(command, args) {
      const r = await execa(command, args, { cwd: dir, env, reject: false, timeout: 240_000, all: false });
      return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
  };
  apps.push(app);
  return app;
}

/** Installs the packed tarball as a devDependency, from npm's cache where it can. */
async function install(app: App): Promise<void> {
  const r = await app.sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '-D', tarball]);
  expect(r.exitCode, r.stderr).toBe(0);
}

async function envOf(app: App): Promise<Record<string, string>> {
  const r = await app.sh('npx', ['pgstrap', 'env', '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, string>;
}

async function publicTables(app: App): Promise<string[]> {
  const env = await envOf(app);
  return withClient({ connectionString: env.DATABASE_URL! }, async (c) =>
    (await c.query<{ name: string }>("SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")).rows.map((r) => r.name),
  );
}

beforeAll(async () => {
  const packed = await execa('npm', ['pack', '--pack-destination', scratch, '--json'], { cwd: REPO_ROOT });
  tarball = path.join(scratch, (JSON.parse(String(packed.stdout)) as Array<{ filename: string }>)[0]!.filename);
}, 120_000);

afterAll(async () => {
  for (const app of apps) await app.sh('npx', ['pgstrap', 'stop']);
  fs.rmSync(scratch, { recursive: true, force: true });
}, 120_000);

describe('adopting pgstrap in an existing app', () => {
  it('ships only what runs', async () => {
    const listing = await execa('tar', ['-tzf', tarball]);
    const files = String(listing.stdout).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'scripts/pgstrap.mjs', 'scripts/index.mjs', 'scripts/index.d.mts', 'scripts/cli.ts', 'flake.nix', 'flake.lock', 'nix/shell-hook.sh', '.envrc']));
    for (const absent of [/^test\//, /^bench\//, /^\.ci\//, /^docs\//, /^examples\//, /^migrations\//, /^nix\/extensions\.json$/, /\.test\.ts$/]) {
      expect(files.filter((f) => absent.test(f)), String(absent)).toEqual([]);
    }
  });

  it('installs, inits without clobbering, sets up, and leaves the app\'s tsc and databases its own', async () => {
    const app = makeApp();
    await install(app);
    const before = fs.readFileSync(path.join(app.dir, 'package.json'), 'utf8');

    const dry = await app.sh('npx', ['pgstrap', 'init', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^pgstrap init would:/);
    expect(fs.readFileSync(path.join(app.dir, 'package.json'), 'utf8')).toBe(before);
    expect(fs.existsSync(path.join(app.dir, 'extensions.config.ts'))).toBe(false);

    const init = await app.sh('npx', ['pgstrap', 'init']);
    expect(init.exitCode, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/create extensions\.config\.ts/);
    expect(init.stdout).toMatch(/scripts "doctor" runs .*left as it is, added "pgstrap:doctor" instead/);
    const pkg = JSON.parse(fs.readFileSync(path.join(app.dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts).toMatchObject({ doctor: expect.stringContaining("the app\\'s own doctor"), build: 'tsc', 'db:setup': 'pgstrap setup', 'pgstrap:doctor': 'pgstrap doctor', migrate: 'pgstrap migrate' });
    expect(fs.readFileSync(path.join(app.dir, '.gitignore'), 'utf8')).toMatch(/^node_modules\/\ndist\/\n[\s\S]*^\.pgstrap\/$/m);
    expect(fs.readFileSync(path.join(app.dir, 'extensions.config.ts'), 'utf8')).toMatch(/from 'pgstrap'/);
    for (const file of ['flake.nix', 'flake.lock', 'nix/extensions.json', 'nix/shell-hook.sh', '.envrc']) expect(fs.existsSync(path.join(app.dir, file)), file).toBe(true);
    expect(fs.readdirSync(path.join(app.dir, 'migrations'))).toEqual([]);

    const again = await app.sh('npx', ['pgstrap', 'init']);
    expect(again.stdout).toMatch(/^Nothing to do: this app is already set up for pgstrap\./);

    const setup = await app.sh('npm', ['run', 'db:setup']);
    expect(setup.exitCode, `${setup.stdout}\n${setup.stderr}`).toBe(0);
    const nixFile = fs.readFileSync(path.join(app.dir, 'nix/extensions.json'), 'utf8');

    // The app's tsc: no error, and none of pgstrap's TypeScript sources among the files it checked.
    const tsc = await app.sh(TSC, ['-p', '.', '--listFilesOnly']);
    expect(tsc.exitCode, tsc.stdout).toBe(0);
    const checked = tsc.stdout.split('\n').filter((f) => f.includes('node_modules/pgstrap/'));
    expect(checked).toEqual([expect.stringMatching(/node_modules\/pgstrap\/scripts\/index\.d\.mts$/)]);
    expect((await app.sh(TSC, ['-p', '.'])).exitCode).toBe(0);

    expect(await publicTables(app)).toEqual([]);
    const status = await app.sh('npm', ['run', '--silent', 'db:status']);
    expect(status.stdout).toMatch(new RegExp(`port +127\\.0\\.0\\.1:${defaultPortFor(fs.realpathSync(app.dir))} \\(derived from the project folder\\)`));
    expect(fs.readFileSync(path.join(app.dir, '.pgstrap', 'port'), 'utf8')).toBe(`${defaultPortFor(fs.realpathSync(app.dir))}\n`);

    // A scratch config on another port leaves the committed nix/extensions.json as it is.
    fs.writeFileSync(path.join(app.dir, 'scratch.config.ts'), "import { defineConfig } from 'pgstrap';\nexport default defineConfig({ databases: ['app'], extensions: ['citext'], stateDir: '.scratch', port: 25999 });\n");
    const scratchSetup = await app.sh('npx', ['pgstrap', 'setup', '--config', 'scratch.config.ts']);
    expect(scratchSetup.exitCode, `${scratchSetup.stdout}\n${scratchSetup.stderr}`).toBe(0);
    expect(scratchSetup.stdout).toMatch(/scratch\.config\.ts is not the project's config/);
    expect(JSON.parse((await app.sh('npx', ['pgstrap', 'env', '--config', 'scratch.config.ts', '--json'])).stdout)).toMatchObject({ PGPORT: '25999' });
    expect((await app.sh('npx', ['pgstrap', 'stop', '--config', 'scratch.config.ts'])).exitCode).toBe(0);
    expect(fs.readFileSync(path.join(app.dir, 'nix/extensions.json'), 'utf8')).toBe(nixFile);
  });

  it('runs a second app at the same time, on its own port, with no port configured', async () => {
    const [first] = apps;
    const second = makeApp();
    await install(second);
    expect((await second.sh('npx', ['pgstrap', 'init'])).exitCode).toBe(0);
    const setup = await second.sh('npm', ['run', 'db:setup']);
    expect(setup.exitCode, `${setup.stdout}\n${setup.stderr}`).toBe(0);
    const [a, b] = [await envOf(first!), await envOf(second)];
    expect(a.PGPORT).not.toBe(b.PGPORT);
    for (const app of [first!, second]) {
      expect((await app.sh('npm', ['run', '--silent', 'db:status'])).exitCode).toBe(0);
      expect(fs.readFileSync(path.join(app.dir, 'extensions.config.ts'), 'utf8')).not.toMatch(/\bport\s*:/);
    }
    expect(await publicTables(second)).toEqual([]);
  });
});
