/**
 * Which extensions a PostgreSQL installation has on disk: control files in <sharedir>/extension and
 * libraries in <pkglibdir>. Read before the server starts, so preloads name only installed libraries
 * (a missing one stops the server from starting) and a required extension is checked before any change.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PostgresBinaries } from '../server/binaries.ts';
import { run } from '../server/process.ts';

/** What an installation holds. */
export interface InstalledFiles {
  /** CREATE EXTENSION names (control files). */
  extensions: Set<string>;
  /** Loadable library names, without the .so/.dylib suffix. */
  libraries: Set<string>;
  sharedir: string | undefined;
  pkglibdir: string | undefined;
}

/** pg_config's answer when the bin folder has one (system and Nix builds; embedded has none). */
async function fromPgConfig(binDir: string): Promise<{ sharedir: string; pkglibdir: string } | undefined> {
  const pgConfig = path.join(binDir, 'pg_config');
  if (!fs.existsSync(pgConfig)) return undefined;
  const result = await run(pgConfig, ['--sharedir', '--pkglibdir'], { timeoutMs: 10_000, reject: false });
  const [sharedir, pkglibdir] = String(result.stdout).trim().split('\n');
  return result.exitCode === 0 && sharedir && pkglibdir ? { sharedir, pkglibdir } : undefined;
}

/** The first candidate folder that holds `marker` (every build has plpgsql). */
function firstWith(candidates: string[], marker: string): string | undefined {
  return candidates.find((dir) => fs.existsSync(path.join(dir, marker)));
}

function listNames(dir: string | undefined, pattern: RegExp): Set<string> {
  if (dir === undefined) return new Set();
  try {
    return new Set(fs.readdirSync(dir).flatMap((f) => (pattern.test(f) ? [f.replace(pattern, '')] : [])));
  } catch {
    return new Set();
  }
}

/**
 * Extra folders the config's settings add (PostgreSQL 18's extension_control_path, dynamic_library_path),
 * without the server's own ($system, $libdir), which readInstalledFiles finds itself.
 */
export function extraSearchDirs(settings: Record<string, string>): { control: string[]; libraries: string[] } {
  const dirs = (value: string | undefined, own: string) => (value ?? '').split(':').map((d) => d.trim()).filter((d) => d !== '' && d !== own);
  // PostgreSQL 18 appends "extension" to each element of extension_control_path but $system.
  return {
    control: dirs(settings.extension_control_path, '$system').map((d) => path.join(d, 'extension')),
    libraries: dirs(settings.dynamic_library_path, '$libdir'),
  };
}

const cache = new Map<string, Promise<InstalledFiles>>();

/** The extensions and libraries installed with `binaries`, plus those in `extra` folders (cached). */
export function readInstalledFiles(binaries: PostgresBinaries, extra: { control: string[]; libraries: string[] } = { control: [], libraries: [] }): Promise<InstalledFiles> {
  const key = JSON.stringify([binaries.binDir, extra]);
  let found = cache.get(key);
  if (!found) {
    found = (async () => {
      const prefix = path.dirname(binaries.binDir);
      const dirs = await fromPgConfig(binaries.binDir);
      const sharedir = dirs?.sharedir ?? firstWith([path.join(prefix, 'share', 'postgresql'), path.join(prefix, 'share')], 'extension/plpgsql.control');
      const pkglibdir = dirs?.pkglibdir ?? firstWith([path.join(prefix, 'lib', 'postgresql'), path.join(prefix, 'lib')], 'plpgsql.so') ?? firstWith([path.join(prefix, 'lib', 'postgresql'), path.join(prefix, 'lib')], 'plpgsql.dylib');
      const union = (sets: Set<string>[]) => new Set(sets.flatMap((set) => [...set]));
      return {
        extensions: union([sharedir && path.join(sharedir, 'extension'), ...extra.control].map((d) => listNames(d, /\.control$/))),
        libraries: union([pkglibdir, ...extra.libraries].map((d) => listNames(d, /\.(so|dylib)$/))),
        sharedir,
        pkglibdir,
      };
    })();
    cache.set(key, found);
  }
  return found;
}
