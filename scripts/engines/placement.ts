/**
 * Where a managed cluster's files go, so that the server user can reach them. As root, a checkout under a
 * 0700 home is out of the server user's reach: runtime state then moves to /var/tmp/pgstrap-<tag>, and
 * binaries it cannot execute are hard-linked (or copied) next to it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ResolvedConfig } from '../core/config/types.ts';
import { ExitCode, PgstrapError } from '../core/errors.ts';
import { clusterLayout, projectTag, type ClusterLayout } from '../core/layout.ts';
import type { PostgresBinaries } from './binaries.ts';
import { run } from './process.ts';
import type { ServerUser } from './server-user.ts';

/**
 * True when the mode bits alone let `user` search (execute) `target` and every folder above it. Conservative:
 * where the user owns a component, the owner's bit decides; elsewhere both the group's and others' bits must
 * allow it (the user may be in the group through a supplementary group, which then decides).
 */
function reachableByModes(user: ServerUser, target: string): boolean {
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const stat = fs.statSync(path.sep + parts.slice(0, i).join(path.sep), { throwIfNoEntry: false });
    if (!stat) return false;
    const allowed = stat.uid === user.uid ? (stat.mode & 0o100) !== 0 : (stat.mode & 0o011) === 0o011;
    if (!allowed) return false;
  }
  return true;
}

/** True when `user` can traverse to `dir` (and read/execute `file` in it, when given). */
async function canReach(user: ServerUser, target: string): Promise<boolean> {
  // The mode bits answer the common case without starting a process as that user; what they leave open is
  // asked of the system. (An ACL that takes away what the bits give is not seen: the server's start then fails, saying why.)
  if (reachableByModes(user, target)) return true;
  const result = await run('test', ['-x', target], { as: user, timeoutMs: 10_000, reject: false });
  return result.exitCode === 0;
}

/** The folder runtime state moves to when the project is unreachable. */
export function relocationDir(projectDir: string): string {
  const base = fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir();
  return path.join(base, `pgstrap-${projectTag(projectDir)}`);
}

/** Computes the layout; as root, checks reachability and relocates runtime state if needed. */
export async function placeCluster(config: ResolvedConfig, user: ServerUser | undefined): Promise<ClusterLayout> {
  // Not os.tmpdir(): nix develop sets a new TMPDIR per shell, and macOS's is long; /tmp is short and stable.
  const tmpDir = fs.existsSync('/tmp') ? '/tmp' : os.tmpdir();
  if (!user) return clusterLayout(config, { tmpDir });
  fs.mkdirSync(config.stateDir, { recursive: true, mode: 0o755 });
  if (await canReach(user, config.stateDir)) return clusterLayout(config, { tmpDir });
  for (const [key, dir] of [['dataDir', config.dataDir], ['socketDir', config.socketDir]] as const) {
    if (dir !== undefined && !(await canReach(user, path.dirname(dir)))) {
      throw new PgstrapError({
        code: 'root.unreachable',
        message: `${key} ${dir} is not reachable by the server user "${user.name}" (a parent folder is not executable for it)`,
        remedy: `Choose a ${key} outside a private home folder, e.g. /var/tmp/pgstrap, or remove ${key} so pgstrap relocates it.`,
        exit: ExitCode.environment,
      });
    }
  }
  const relocateTo = relocationDir(config.projectDir);
  fs.mkdirSync(relocateTo, { recursive: true, mode: 0o755 });
  return clusterLayout(config, { relocateTo, tmpDir });
}

/** Hard-links a tree (falling back to copies across file systems), keeping symlinks and modes. */
function linkTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true, mode: 0o755 });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) linkTree(src, dst);
    else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dst);
    else {
      try {
        fs.linkSync(src, dst);
      } catch {
        fs.copyFileSync(src, dst);
        fs.chmodSync(dst, fs.statSync(src).mode);
      }
    }
  }
}

/**
 * Binaries the server user can execute: the originals when reachable, else a staged copy of their
 * installation prefix (bin/, lib/, share/) under the runtime directory.
 */
export async function reachableBinaries(binaries: PostgresBinaries, user: ServerUser | undefined, layout: ClusterLayout): Promise<PostgresBinaries> {
  if (!user || (await canReach(user, path.join(binaries.binDir, 'postgres')))) return binaries;
  const prefix = path.dirname(binaries.binDir);
  const staged = path.join(layout.runtimeDir, `postgresql-${binaries.engine}-${binaries.version}`);
  const marker = path.join(staged, '.pgstrap-origin');
  const origin = `${binaries.origin} ${prefix}`;
  if (!fs.existsSync(marker) || fs.readFileSync(marker, 'utf8') !== origin) {
    fs.rmSync(staged, { recursive: true, force: true });
    fs.mkdirSync(layout.runtimeDir, { recursive: true, mode: 0o755 });
    linkTree(prefix, staged);
    fs.writeFileSync(marker, origin);
  }
  const stagedBinaries = { ...binaries, binDir: path.join(staged, path.basename(binaries.binDir)) };
  if (!(await canReach(user, path.join(stagedBinaries.binDir, 'postgres')))) {
    throw new PgstrapError({
      code: 'root.unreachable',
      message: `the server user "${user.name}" cannot execute ${stagedBinaries.binDir}/postgres`,
      remedy: `Make ${layout.runtimeDir} reachable (chmod o+x on each parent), or set runAs to a user who can reach it.`,
      exit: ExitCode.environment,
    });
  }
  return stagedBinaries;
}
