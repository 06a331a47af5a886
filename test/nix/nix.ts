/**
 * Nix for the flake tests: offline, with a throwaway store, state and config per test file, so nothing
 * touches /nix, the network or the developer's nix.conf. Works with Debian's Nix 2.8, which has no nixpkgs:
 * the flake is evaluated against test/nix/fixtures/nixpkgs-stub.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult as Result } from '../../scripts/server/process.ts';
import type { NixExtensionsSpec } from '../../scripts/nix/extensions-json.ts';
import { run } from '../../scripts/server/process.ts';
import { REPO_ROOT } from '../support/project.ts';

/** The nixpkgs stand-in, given to the flake with --override-input. */
export const STUB_NIXPKGS = path.join(REPO_ROOT, 'test/nix/fixtures/nixpkgs-stub');

/** The files a copy of the flake needs (what `nix develop` reads), relative to the repository. */
const FLAKE_FILES = ['flake.nix', 'flake.lock', '.envrc', 'nix/lib.nix', 'nix/shell-hook.sh'];

/** Why the Nix tests cannot run on this machine, or undefined when they can. */
export async function nixMissing(): Promise<string | undefined> {
  let result: Result;
  try {
    result = await run('nix', ['--version'], { reject: false, timeoutMs: 30_000 });
  } catch {
    return 'nix is not installed (apt-get install nix-bin; .ci/run does)';
  }
  // With reject: false, execa reports a missing program as a result without an exit code.
  if (result.exitCode === undefined) return 'nix is not installed (apt-get install nix-bin; .ci/run does)';
  const match = /(\d+)\.(\d+)/.exec(String(result.stdout));
  if (result.exitCode !== 0 || !match) return `nix --version did not answer: ${String(result.stderr).trim()}`;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major < 2 || (major === 2 && minor < 8)) return `nix ${match[0]} is older than 2.8 (flakes with --override-input path:)`;
  return undefined;
}

/** A private Nix home: store, state, logs, config and cache under one temporary folder. */
export interface NixHome {
  dir: string;
  /** Runs `nix` with flakes enabled, offline; resolves whatever the exit code. */
  nix(args: string[], options?: { cwd?: string }): Promise<Result>;
  /** Runs another Nix program (nix-instantiate) in the same home. */
  program(name: string, args: string[]): Promise<Result>;
  remove(): void;
}

/** Creates a private Nix home. */
export function makeNixHome(): NixHome {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-nix-'));
  const confDir = path.join(dir, 'conf');
  fs.mkdirSync(confDir);
  // No build users (root without nixbld), no global registry download, no substituters: offline.
  fs.writeFileSync(path.join(confDir, 'nix.conf'), 'build-users-group =\nflake-registry =\nsubstituters =\n');
  const env: Record<string, string | undefined> = {
    ...process.env,
    NIX_STORE_DIR: path.join(dir, 'store'),
    NIX_STATE_DIR: path.join(dir, 'state'),
    NIX_LOG_DIR: path.join(dir, 'log'),
    NIX_CONF_DIR: confDir,
    NIX_USER_CONF_FILES: path.join(confDir, 'nix.conf'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    NIX_REMOTE: undefined,
  };
  const program = (name: string, args: string[], cwd?: string) =>
    run(name, args, { env, reject: false, timeoutMs: 120_000, ...(cwd ? { cwd } : {}) });
  return {
    dir,
    nix: (args, options = {}) =>
      program('nix', ['--extra-experimental-features', 'nix-command flakes', '--offline', ...args], options.cwd),
    program: (name, args) => program(name, args),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Copies the repository's flake into `parent` with `spec` as nix/extensions.json; returns the copy's folder. */
export function copyFlake(parent: string, spec: NixExtensionsSpec | string, extraFiles: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(parent, 'flake-'));
  for (const file of FLAKE_FILES) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
  }
  fs.writeFileSync(path.join(dir, 'nix/extensions.json'), typeof spec === 'string' ? spec : `${JSON.stringify(spec, null, 2)}\n`);
  for (const [file, content] of Object.entries(extraFiles)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

/** Flags that evaluate a flake copy against the stub nixpkgs without touching its lock file. */
export function stubInputs(): string[] {
  return ['--override-input', 'nixpkgs', `path:${STUB_NIXPKGS}`, '--no-write-lock-file'];
}

/** `nix eval --json <flake>#<attr> --apply <fn>` against the stub; throws with Nix's message on failure. */
export async function evalJson<T>(home: NixHome, flake: string, attr: string, apply?: string): Promise<T> {
  const result = await home.nix(['eval', '--json', `path:${flake}#${attr}`, ...(apply ? ['--apply', apply] : []), ...stubInputs()]);
  if (result.exitCode !== 0) throw new Error(`nix eval ${attr} failed:\n${String(result.stderr)}`);
  return JSON.parse(String(result.stdout)) as T;
}
