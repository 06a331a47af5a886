/**
 * Keeps nix/extensions.json (what flake.nix builds) in step with extensions.config.ts: setup refreshes
 * it, doctor and the tests call readNixExtensionsCheck to catch a stale committed copy.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_FILES, type ResolvedConfig } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import {
  compareNixExtensions,
  describeNixDrift,
  NIX_EXTENSIONS_FILE,
  NIX_EXTENSIONS_FIX,
  renderNixExtensions,
  type CatalogueLookup,
  type NixExtensionProblem,
} from './extensions-json.ts';
import type { Step } from '../pipeline/step.ts';
import { findOnPath, run } from '../server/process.ts';
import { fileIdentity, keptAnswer } from '../server/program-answers.ts';
import { parseNixVersion } from './nix-version.ts';
import { writeFileAtomic } from '../shared/write-file.ts';

/** The file's absolute path for a project. */
export function nixExtensionsPath(config: ResolvedConfig): string {
  return path.join(config.projectDir, NIX_EXTENSIONS_FILE);
}

/**
 * The version of the `nix` on PATH (`nix --version`), or undefined when there is none or it does not answer;
 * with `answersFile`, asked once per nix program (server/program-answers.ts).
 */
export async function probeNixVersion(env: Record<string, string | undefined> = {}, answersFile?: string): Promise<string | undefined> {
  const nix = findOnPath('nix', env.PATH);
  if (nix === undefined) return undefined;
  const text = await keptAnswer(answersFile, `nix --version ${nix}`, fileIdentity(nix), async () => {
    try {
      const result = await run(nix, ['--version'], { env, reject: false, timeoutMs: 10_000 });
      return result.exitCode === 0 ? String(result.stdout) : undefined;
    } catch {
      return undefined;
    }
  });
  return text === undefined ? undefined : parseNixVersion(text);
}

/** True when the project has a flake to feed (a project without Nix gets no nix/ folder). */
export function hasFlake(config: ResolvedConfig): boolean {
  return fs.existsSync(path.join(config.projectDir, 'flake.nix'));
}

/** A file's text, or undefined when it does not exist (other errors are thrown). */
export function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * True when `config` is the project's own (extensions.config.* at its root, or none: every default): only that
 * one decides the committed nix/extensions.json. A `--config scratch.config.ts` leaves the file alone.
 */
export function isProjectConfig(config: ResolvedConfig): boolean {
  if (config.file === undefined) return true;
  return path.dirname(config.file) === config.projectDir && (CONFIG_FILES as readonly string[]).includes(path.basename(config.file));
}

/** What doctor and the tests learn about the committed nix/extensions.json. */
export interface NixExtensionsCheck {
  ok: boolean;
  file: string;
  /** nixpkgs attributes the config needs that the file lacks. */
  missing: string[];
  /** Attributes the file builds that the config no longer declares. */
  extra: string[];
  /** Other differences, one line each. */
  stale: string[];
  /** Declared extensions the flake cannot build (unavailable for this major, or unknown). */
  problems: NixExtensionProblem[];
  /** The command that rewrites the file. */
  fix: string;
}

/** Compares the project's nix/extensions.json with what `npm run setup` would write. */
export function readNixExtensionsCheck(config: ResolvedConfig, lookup?: CatalogueLookup): NixExtensionsCheck {
  const file = nixExtensionsPath(config);
  const expected = renderNixExtensions(config, lookup);
  const drift = compareNixExtensions(expected, readIfExists(file));
  return { ok: drift.upToDate, file, missing: drift.missing, extra: drift.extra, stale: drift.stale, problems: expected.problems, fix: NIX_EXTENSIONS_FIX };
}

/** Throws a PgstrapError naming every difference and the fix when the file is out of date. */
export function assertNixExtensionsInSync(config: ResolvedConfig, lookup?: CatalogueLookup): void {
  const check = readNixExtensionsCheck(config, lookup);
  if (check.ok) return;
  throw new PgstrapError({
    code: 'nix.extensions-stale',
    message: `${check.file} is out of date for ${config.file ?? 'the config'}`,
    details: describeNixDrift(check),
    remedy: `Run \`${check.fix}\` and commit ${NIX_EXTENSIONS_FILE}; flake.nix builds PostgreSQL from it.`,
    exit: ExitCode.failure,
  });
}

/** Writes `text` atomically, so a concurrent `nix develop` never reads half a file. */
function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, text);
}

/** Setup's first step: refresh nix/extensions.json when its content changed, and report what the flake cannot build. */
export const nixExtensionsStep: Step = {
  id: 'nix-extensions',
  title: 'Refresh the flake extension list',
  skip(ctx) {
    if (!hasFlake(ctx.config)) return 'no flake.nix in the project';
    return isProjectConfig(ctx.config) ? undefined : `${path.basename(ctx.config.file ?? '')} is not the project's config (${CONFIG_FILES[0]}); ${NIX_EXTENSIONS_FILE} follows that one only`;
  },
  async run(ctx) {
    const expected = renderNixExtensions(ctx.config);
    const file = nixExtensionsPath(ctx.config);
    const drift = compareNixExtensions(expected, readIfExists(file));
    const changes: string[] = [];
    if (!drift.upToDate) {
      writeAtomically(file, expected.text);
      const added = drift.missing.length > 0 ? ` (+ ${drift.missing.join(', ')})` : '';
      const removed = drift.extra.length > 0 ? ` (- ${drift.extra.join(', ')})` : '';
      changes.push(`wrote ${NIX_EXTENSIONS_FILE}${added}${removed}: re-enter nix develop (direnv reloads by itself)`);
    }
    const notes = expected.problems.map((p) => p.message);
    if (expected.unfree.length > 0) {
      const free = expected.freeAlternatives.length > 0 ? `; nixpkgs also builds ${expected.freeAlternatives.join(', ')}` : '';
      notes.push(`unfree, allowed by name only in flake.nix's allowUnfreePredicate: ${expected.unfree.join(', ')}${free}`);
    }
    const unavailable = expected.problems.some((p) => p.kind === 'unavailable');
    return { changes, notes, ...(unavailable ? { status: 'warning' as const } : {}) };
  },
};
