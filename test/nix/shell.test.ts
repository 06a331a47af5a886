/**
 * The dev shell's hook (nix/shell-hook.sh) and .envrc, run by bash as nix develop and direnv run them:
 * the hook must export what `npm run env` exports; .envrc must run its slow command only when an
 * input changed. direnv's stdlib is stubbed (the few functions .envrc calls); npm and nix are fakes
 * that count their calls. No Nix or direnv needed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { defaultPortFor } from '../../scripts/config/default-port.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { clusterLayout } from '../../scripts/server/layout.ts';
import { renderNixExtensions } from '../../scripts/nix/extensions-json.ts';
import { clientEnvironment } from '../../scripts/server/client-env.ts';
import { run } from '../../scripts/server/process.ts';
import { REPO_ROOT } from '../support/project.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function write(file: string, content: string, mode?: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, mode === undefined ? undefined : { mode });
}

/** Parses `env` output (values here never hold newlines). */
function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

async function bash(script: string, options: { cwd: string; env: Record<string, string | undefined> }) {
  const result = await run('bash', ['-c', script], { cwd: options.cwd, env: { PATH: process.env.PATH, HOME: options.cwd, ...options.env }, reject: false, timeoutMs: 30_000 });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('nix/shell-hook.sh', () => {
  /** A project with flake.nix and nix/extensions.json for `raw`, and the variables flake.nix gives the shell. */
  function project(raw: PgstrapConfig, password?: string) {
    const dir = tempDir('pgstrap-hook-');
    const config = resolveConfig(raw, { file: path.join(dir, 'extensions.config.ts'), projectDir: dir });
    const { spec, text } = renderNixExtensions(config);
    write(path.join(dir, 'flake.nix'), '{ }\n');
    write(path.join(dir, 'nix/extensions.json'), text);
    if (password !== undefined) write(path.join(dir, '.pgstrap/password'), `${password}\n`, 0o600);
    // pgstrap records the port it uses in the state folder (server/port.ts); the hook reads it there.
    if (raw.port !== undefined) write(path.join(dir, '.pgstrap/port'), `${raw.port}\n`);
    const shellEnv = {
      PG_BIN: '/nix/store/xxx-postgresql-and-plugins-17.5/bin',
      PGUSER: spec.shell.user,
      PGDATABASE: spec.shell.database,
      PGSTRAP_STATE_DIR: spec.shell.stateDir,
      PGSTRAP_DATA_DIR: spec.shell.dataDir,
      PGSTRAP_SOCKET_DIR: spec.shell.socketDir,
      PGSTRAP_SHELL_SUMMARY: 'PostgreSQL 17.5 (pg_uuidv7, pgmq, pgvector), Node.js 22.12.0',
    };
    return { dir, config, shellEnv };
  }
  const hook = path.join(REPO_ROOT, 'nix/shell-hook.sh');

  it('exports exactly what `npm run env` exports, from a subfolder, before and after initdb', async () => {
    for (const password of [undefined, 'Zx_9-abcDEF']) {
      const { dir, config, shellEnv } = project({ port: 6017, databases: ['shop', 'shop_test'] }, password);
      fs.mkdirSync(path.join(dir, 'src/deep'), { recursive: true });
      const result = await bash(`source ${hook} && env`, { cwd: path.join(dir, 'src/deep'), env: shellEnv });
      expect(result.exitCode, result.stderr).toBe(0);
      const env = parseEnv(result.stdout);
      const layout = clusterLayout(config);
      expect(env).toMatchObject({ ...clientEnvironment(layout, config), PGDATA: layout.dataDir });
      expect(env.DATABASE_URL).toBe(`postgresql://postgres${password ? `:${password}` : ''}@127.0.0.1:6017/shop`);
      // No helper functions leak into the user's shell.
      expect((await bash(`source ${hook} 2>/dev/null; declare -F | grep -c pgstrap || true`, { cwd: dir, env: shellEnv })).stdout.trim()).toBe('0');
    }
  });

  it('derives the port from the project folder, as pgstrap does, until pgstrap has recorded one', async () => {
    const { dir, config, shellEnv } = project({});
    const derived = await bash(`source ${hook} 2>/dev/null && echo "$PGPORT"`, { cwd: dir, env: { ...shellEnv, PGPORT: '1' } });
    expect(Number(derived.stdout.trim())).toBe(defaultPortFor(fs.realpathSync(dir)));
    expect(config.port).toBe(defaultPortFor(dir));
    write(path.join(dir, '.pgstrap/port'), '6123\n');
    expect((await bash(`source ${hook} 2>/dev/null && echo "$PGPORT"`, { cwd: dir, env: shellEnv })).stdout.trim()).toBe('6123');
  });

  it('prints a short banner on stderr with the next command (one line under direnv)', async () => {
    const { dir, shellEnv } = project({});
    const plain = await bash(`source ${hook}`, { cwd: dir, env: shellEnv });
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toContain('pgstrap dev shell: PostgreSQL 17.5 (pg_uuidv7, pgmq, pgvector), Node.js 22.12.0');
    expect(plain.stderr).toContain('PG_BIN=/nix/store/xxx-postgresql-and-plugins-17.5/bin');
    // execa strips the final newline.
    expect(plain.stderr).toMatch(/\n  next: npm ci && npm run setup$/);
    fs.mkdirSync(path.join(dir, 'node_modules'));
    const direnv = await bash(`source ${hook}`, { cwd: dir, env: { ...shellEnv, DIRENV_IN_ENVRC: '1' } });
    expect(direnv.stderr).toBe('pgstrap: PostgreSQL 17.5 (pg_uuidv7, pgmq, pgvector), Node.js 22.12.0; next: npm run setup');
     // An app that installed pgstrap: its bin.
    write(path.join(dir, 'node_modules/.bin/pgstrap'), '#!/bin/sh\n', 0o755);
    expect((await bash(`source ${hook}`, { cwd: dir, env: shellEnv })).stderr).toMatch(/\n  next: npx pgstrap setup$/);
  });

  it("asks an app's pgstrap bin, not an npm script the app may lack, when it must ask the orchestrator", async () => {
    const { dir, shellEnv } = project({ socketDir: path.join(os.tmpdir(), 'y'.repeat(110)) });
    write(path.join(dir, 'node_modules/.bin/pgstrap'), `#!/bin/sh\n[ "$*" = env ] && echo "export PGHOST='/from/bin'"\n`, 0o755);
    const result = await bash(`source ${hook} 2>/dev/null && echo "$PGHOST"`, { cwd: dir, env: { ...shellEnv, PATH: '/usr/bin:/bin' } });
    expect(result.stdout.trim()).toBe('/from/bin');
  });

  it('asks the orchestrator when the socket path is too long for the static values to be right', async () => {
    const long = path.join(os.tmpdir(), 'x'.repeat(110));
    const { dir, shellEnv } = project({ socketDir: long });
    fs.mkdirSync(path.join(dir, 'node_modules'));
    const bin = tempDir('pgstrap-fakebin-');
    write(path.join(bin, 'npm'), `#!/bin/sh\n[ "$*" = "run --silent env" ] && echo "export PGHOST='/from/orchestrator'"\n`, 0o755);
    const result = await bash(`source ${hook} 2>/dev/null && echo "$PGHOST"`, { cwd: dir, env: { ...shellEnv, PATH: `${bin}:${process.env.PATH}` } });
    expect(result.stdout.trim()).toBe('/from/orchestrator');
  });

  const root = process.getuid?.() === 0;
  it.skipIf(!root)(`follows a relocated cluster: PGDATA beside the socket folder the orchestrator names${root ? '' : ' (skipped: needs root, the case it covers)'}`, async () => {
    const { dir, shellEnv } = project({});
    fs.mkdirSync(path.join(dir, 'node_modules'));
    const bin = tempDir('pgstrap-fakebin-');
    write(path.join(bin, 'npm'), `#!/bin/sh\necho "export PGHOST='/var/tmp/pgstrap-abc/run'"\n`, 0o755);
    const result = await bash(`source ${hook} 2>/dev/null; echo "$PGHOST $PGDATA"`, { cwd: dir, env: { ...shellEnv, PATH: `${bin}:${process.env.PATH}` } });
    expect(result.stdout.trim()).toBe('/var/tmp/pgstrap-abc/run /var/tmp/pgstrap-abc/data');
  });

  it('says so, and sets no paths, outside a pgstrap project', async () => {
    const { shellEnv } = project({});
    const elsewhere = tempDir('pgstrap-elsewhere-');
    const result = await bash(`source ${hook}; echo "PGHOST=\${PGHOST:-unset}"`, { cwd: elsewhere, env: shellEnv });
    expect(result.stdout.trim()).toBe('PGHOST=unset');
    expect(result.stderr).toMatch(/not inside a pgstrap project/);
  });
});

describe('.envrc', () => {
  // The direnv stdlib functions .envrc calls, as no-ops or their plain meaning.
  const DIRENV_STUB = `
has() { if [[ $1 == nix ]]; then [[ -n \${FAKE_HAS_NIX:-} ]]; else type "$1" > /dev/null 2>&1; fi; }
watch_file() { :; }
PATH_add() { PATH=$PWD/$1:$PATH; }
direnv_layout_dir() { echo "$PWD/.direnv"; }
log_status() { echo "status: $*" >&2; }
log_error() { echo "error: $*" >&2; }
`;
  // nix-direnv, loaded: its version function and a \`use flake\` that logs its call.
  const NIX_DIRENV_STUB = `
nix_direnv_version() { :; }
use() { echo "use $*" >> calls.log; export FROM_NIX=1; }
`;
  const EVAL = (dir: string) =>
    `nix --extra-experimental-features nix-command flakes --option download-attempts 1 --option connect-timeout 5 print-dev-env --profile ${path.join(dir, '.direnv/flake-profile')}`;

  /** A project folder with .envrc, fake npm and nix that log their calls, and node_modules. */
  function project(options: { nodeModules?: boolean } = {}) {
    const dir = tempDir('pgstrap-envrc-');
    fs.copyFileSync(path.join(REPO_ROOT, '.envrc'), path.join(dir, '.envrc'));
    for (const file of ['flake.nix', 'flake.lock', 'nix/extensions.json', 'nix/shell-hook.sh', 'extensions.config.ts', 'package-lock.json']) {
      write(path.join(dir, file), `${file}\n`);
    }
    if (options.nodeModules !== false) fs.mkdirSync(path.join(dir, 'node_modules/.bin'), { recursive: true });
    const bin = path.join(dir, 'fakebin');
    const calls = path.join(dir, 'calls.log');
    write(path.join(bin, 'npm'), `#!/bin/sh\necho "npm $*" >> ${calls}\necho "export PGHOST='/from/npm' PGPORT=5417"\n`, 0o755);
    // A fake nix: `--version` answers FAKE_NIX_VERSION; print-dev-env prints what Nix's does (a new
    // temporary folder as NIX_BUILD_TOP and TMPDIR on every load), fails as Nix does offline
    // (FAKE_NIX_OFFLINE: its retry warnings, then the error), or fails to evaluate (FAKE_NIX_FAIL).
    write(
      path.join(bin, 'nix'),
      [
        '#!/bin/sh',
        `echo "nix $*" >> ${calls}`,
        'if [ "$1" = --version ]; then echo "nix (Nix) ${FAKE_NIX_VERSION:-2.24.9}"; exit 0; fi',
        `[ -n "$FAKE_NIX_FAIL" ] && { echo 'error: cannot fetch nixpkgs' >&2; exit 1; }`,
        'if [ -n "$FAKE_NIX_OFFLINE" ]; then',
        `  echo "warning: error: unable to download 'https://api.github.com/repos/NixOS/nixpkgs/tarball/8fd9daa3': Couldn't resolve host name (6); retrying in 289 ms" >&2`,
        `  echo "error: unable to download 'https://api.github.com/repos/NixOS/nixpkgs/tarball/8fd9daa3': Couldn't resolve host name (6)" >&2`,
        '  exit 1',
        'fi',
        `echo 'export NIX_BUILD_TOP="$(mktemp -d -t nix-shell.XXXXXX)"'`,
        'for v in TMP TMPDIR TEMP TEMPDIR; do echo "export $v=\\"\\$NIX_BUILD_TOP\\""; done',
        `echo "export XDG_DATA_DIRS='/nix/store/x-shell/share:/usr/share/'"`,
        'echo "export FROM_NIX=1 PG_BIN=/nix/store/x/bin"',
        '',
      ].join('\n'),
      0o755,
    );
    /** Loads .envrc as direnv would; returns the calls made and a few variables (and `show`'s, on the line before). */
    const load = async (env: Record<string, string> = {}, show = '') => {
      fs.rmSync(calls, { force: true });
      const script = `${DIRENV_STUB}\n${env.FAKE_NIX_DIRENV ? NIX_DIRENV_STUB : ''}\nsource .envrc\necho "${show}"\necho "PGHOST=\${PGHOST:-unset} FROM_NIX=\${FROM_NIX:-unset}"`;
      const result = await bash(script, { cwd: dir, env: { PATH: `${bin}:${process.env.PATH}`, ...env } });
      const made = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [];
      const lines = result.stdout.trim().split('\n');
      return { ...result, calls: made, vars: lines.at(-1), shown: lines.at(-2) };
    };
    /** Makes `file` newer than any cache. */
    const touch = (file: string) => {
      const future = new Date(Date.now() + 60_000);
      fs.utimesSync(path.join(dir, file), future, future);
    };
    return { dir, load, touch };
  }

  it('without Nix: loads `npm run --silent env` once, then from its cache until the config changes', async () => {
    const p = project();
    const first = await p.load();
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.calls).toEqual(['npm run --silent env']);
    expect(first.vars).toBe('PGHOST=/from/npm FROM_NIX=unset');
    const second = await p.load();
    expect(second.calls).toEqual([]);
    expect(second.vars).toBe('PGHOST=/from/npm FROM_NIX=unset');
    p.touch('extensions.config.ts');
    expect((await p.load()).calls).toEqual(['npm run --silent env']);
  });

  it('without node_modules: says to run npm ci and runs nothing', async () => {
    const p = project({ nodeModules: false });
    const result = await p.load();
    expect(result.calls).toEqual([]);
    expect(result.stderr).toMatch(/npm ci/);
    expect(result.vars).toBe('PGHOST=unset FROM_NIX=unset');
  });

  it('with Nix: evaluates the flake once, then sources the cached environment until flake inputs change', async () => {
    const p = project();
    const first = await p.load({ FAKE_HAS_NIX: '1' });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.calls).toEqual(['nix --version', EVAL(p.dir)]);
    expect(first.vars).toBe('PGHOST=unset FROM_NIX=1');
    expect((await p.load({ FAKE_HAS_NIX: '1' })).calls).toEqual([]);
    p.touch('nix/extensions.json');
    expect((await p.load({ FAKE_HAS_NIX: '1' })).calls).toEqual(['nix --version', EVAL(p.dir)]);
    // PGSTRAP_DIRENV=npm skips Nix.
    expect((await p.load({ FAKE_HAS_NIX: '1', PGSTRAP_DIRENV: 'npm' })).calls).toEqual(['npm run --silent env']);
  });

  it('with a Nix that cannot evaluate the flake: falls back to npm, and does not retry until an input changes', async () => {
    const p = project();
    const env = { FAKE_HAS_NIX: '1', FAKE_NIX_FAIL: '1' };
    const first = await p.load(env);
    expect(first.calls.map((c) => c.split(' ')[0])).toEqual(['nix', 'nix', 'npm']);
    expect(first.stderr).toMatch(/could not be evaluated \(cannot fetch nixpkgs; see \.direnv\/pgstrap-flake\.log\)/);
    expect(first.vars).toBe('PGHOST=/from/npm FROM_NIX=unset');
    const second = await p.load(env);
    expect(second.calls).toEqual([]);
    expect(second.vars).toBe('PGHOST=/from/npm FROM_NIX=unset');
    p.touch('flake.lock');
    expect((await p.load(env)).calls).toEqual(['nix --version', EVAL(p.dir)]);
  });

  it('with Nix but no network: one quick attempt, one quiet line saying how to retry, then no Nix until `direnv reload`', async () => {
    const p = project();
    const env = { FAKE_HAS_NIX: '1', FAKE_NIX_OFFLINE: '1' };
    const first = await p.load(env);
    // One evaluation, with one download attempt and a connect timeout: Nix does not retry for 20 s.
    expect(first.calls).toEqual(['nix --version', EVAL(p.dir), 'npm run --silent env']);
    expect(first.vars).toBe('PGHOST=/from/npm FROM_NIX=unset');
    // Nix's retry warnings stay in the log; no error line, one line with the reason and the retry.
    expect(first.stderr).not.toMatch(/^(error|warning):/m);
    const said = first.stderr.split('\n').filter((line) => line.startsWith('status: pgstrap: the flake'));
    expect(said).toEqual([
      "status: pgstrap: the flake could not be evaluated (unable to download 'https://api.github.com/repos/NixOS/nixpkgs/tarball/8fd9daa3': Couldn't resolve host name (6); see .direnv/pgstrap-flake.log); using the orchestrator's environment; `direnv reload` retries",
    ]);
    expect(fs.readFileSync(path.join(p.dir, '.direnv/pgstrap-flake.log'), 'utf8')).toMatch(/retrying in 289 ms/);
    // Every later cd: no Nix, no Node, no error; the same reason, once, as a status line.
    for (let i = 0; i < 3; i += 1) {
      const later = await p.load(env);
      expect(later.calls).toEqual([]);
      expect(later.vars).toBe('PGHOST=/from/npm FROM_NIX=unset');
      expect(later.stderr).not.toMatch(/^error:/m);
      expect(later.stderr.split('\n').filter((line) => line.includes('`direnv reload` retries'))).toHaveLength(1);
    }
    // `direnv reload` touches .envrc: one more attempt, here with the network back.
    p.touch('.envrc');
    const retried = await p.load({ FAKE_HAS_NIX: '1' });
    expect(retried.calls).toEqual(['nix --version', EVAL(p.dir)]);
    expect(retried.vars).toBe('PGHOST=unset FROM_NIX=1');
  });

  it('offline after an input changed: keeps the previous dev shell (as nix-direnv does), and says so', async () => {
    const p = project();
    expect((await p.load({ FAKE_HAS_NIX: '1' })).vars).toBe('PGHOST=unset FROM_NIX=1');
    // nix/extensions.json changed after the cache was written (and before the failure below).
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(p.dir, '.direnv/pgstrap-flake-env.sh'), past, past);
    const env = { FAKE_HAS_NIX: '1', FAKE_NIX_OFFLINE: '1' };
    const offline = await p.load(env);
    expect(offline.calls).toEqual(['nix --version', EVAL(p.dir)]);
    expect(offline.vars).toBe('PGHOST=unset FROM_NIX=1');
    expect(offline.stderr).toMatch(/could not be evaluated \(unable to download .*\); using the previous dev shell; `direnv reload` retries$/m);
    const later = await p.load(env);
    expect(later.calls).toEqual([]);
    expect(later.vars).toBe('PGHOST=unset FROM_NIX=1');
  });

  it('with a Nix older than 2.18: says so, never evaluates the flake, and falls back', async () => {
    const p = project();
    const env = { FAKE_HAS_NIX: '1', FAKE_NIX_VERSION: '2.8.0' };
    const first = await p.load(env);
    expect(first.calls).toEqual(['nix --version', 'npm run --silent env']);
    expect(first.stderr).toMatch(/^status: pgstrap: Nix 2\.8\.0 is older than 2\.18, which nixpkgs 25\.11 needs \(upgrade Nix\); using the orchestrator's environment; `direnv reload` retries$/m);
    expect(first.stderr).not.toMatch(/^error:/m);
    expect(first.vars).toBe('PGHOST=/from/npm FROM_NIX=unset');
    expect((await p.load(env)).calls).toEqual([]);
    // Upgraded, then `direnv reload`.
    p.touch('.envrc');
    expect((await p.load({ FAKE_HAS_NIX: '1', FAKE_NIX_VERSION: '2.18.1' })).calls).toEqual(['nix --version', EVAL(p.dir)]);
    // nix-direnv loaded: the same check before its `use flake`.
    const viaNixDirenv = await p.load({ ...env, FAKE_NIX_DIRENV: '1' });
    expect(viaNixDirenv.calls).toEqual(['nix --version']);
    expect(viaNixDirenv.stderr).toMatch(/Nix 2\.8\.0 is older than 2\.18/);
    expect(viaNixDirenv.vars).toBe('PGHOST=/from/npm FROM_NIX=unset');
    expect((await p.load({ FAKE_HAS_NIX: '1', FAKE_NIX_DIRENV: '1' })).calls).toEqual(['nix --version', 'use flake']);
  });

  it("keeps the user's TMPDIR (TMP, TEMP, TEMPDIR, NIX_BUILD_TOP) on every load of the cached shell, as nix-direnv does", async () => {
    const p = project();
    const tmp = tempDir('pgstrap-usertmp-');
    const show = 'TMPDIR=${TMPDIR:-unset} TMP=${TMP:-unset} TEMP=${TEMP:-unset} TEMPDIR=${TEMPDIR:-unset} NIX_BUILD_TOP=${NIX_BUILD_TOP:-unset} XDG_DATA_DIRS=${XDG_DATA_DIRS:-unset}';
    const env = { FAKE_HAS_NIX: '1', TMPDIR: tmp, TEMP: '/user/temp', XDG_DATA_DIRS: '/usr/share:/usr/local/share' };
    for (let i = 0; i < 3; i += 1) {
      const result = await p.load(env, show);
      expect(result.calls).toHaveLength(i === 0 ? 2 : 0);
      expect(result.vars).toBe('PGHOST=unset FROM_NIX=1');
      expect(result.shown).toBe(`TMPDIR=${tmp} TMP=unset TEMP=/user/temp TEMPDIR=unset NIX_BUILD_TOP=unset XDG_DATA_DIRS=/nix/store/x-shell/share:/usr/share:/usr/local/share`);
    }
    // The folder the script makes on each load is removed at once.
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it("in an app that installed pgstrap: runs its bin's `pgstrap env`", async () => {
    const p = project();
    write(path.join(p.dir, 'node_modules/.bin/pgstrap'), `#!/bin/sh\necho "pgstrap $*" >> ${path.join(p.dir, 'calls.log')}\necho "export PGHOST='/from/bin'"\n`, 0o755);
    const result = await p.load();
    expect(result.calls).toEqual(['pgstrap env']);
    expect(result.vars).toBe('PGHOST=/from/bin FROM_NIX=unset');
  });
});
