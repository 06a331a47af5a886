/**
 * Where a managed cluster's files go, so that the server user can reach them and nobody else can plant
 * anything there. As root, a checkout under a 0700 home is out of the server user's reach: runtime state
 * then moves to /var/lib/pgstrap/<tag>, where only root can create entries, and binaries it cannot execute
 * are staged (root-owned) next to it. A socket folder whose path would be too long is made with an
 * unguessable name and recorded in the state folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ResolvedConfig } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { PORT_FILE, recordPort } from './port.ts';
import { clusterLayout, preferredSocketDir, projectTag, socketFits, type ClusterLayout } from './layout.ts';
import type { PostgresBinaries } from './binaries.ts';
import { currentUid, describePath, ensureTrustedDir, lstatOrUndefined, userNameOf, assertTrustedDir } from './ownership.ts';
import { run } from './process.ts';
import type { ServerUser } from './server-user.ts';
import { writeFileAtomic } from '../shared/write-file.ts';

/** The file pgstrap writes into a state folder it made or adopted: with the owner's uid, proof that it is ours. */
export const STATE_MARKER = '.pgstrap-state';

/** The file in the state folder that records the short socket folder, when one stands in. */
const SOCKET_RECORD = 'socket-dir';

/** Entries pgstrap itself makes in a state folder: a folder holding only these may be adopted. */
const STATE_ENTRIES = [/^data$/, /^run$/, /^log$/, /^password$/, /^pgpass$/, /^lock$/, /^lock\.owner/, /^socket-dir$/, /^port$/, /^bench\.svg$/, /^server-settings\.json/, /^programs\.json/, /^postgresql-/, /^\.?data\.(initdb|incomplete)-/, /^\.staging-/, /\.tmp$/];

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

function configError(key: string, message: string, remedy: string): PgstrapError {
  return new PgstrapError({ code: 'config.state-path', message: `${key}: ${message}`, remedy, exit: ExitCode.usage });
}

/** Refuses a configured path that is a symlink or a file: pgstrap never follows one into another folder. */
function assertConfiguredDir(key: string, dir: string | undefined): void {
  if (dir === undefined) return;
  const stat = lstatOrUndefined(dir);
  if (stat === undefined || (stat.isDirectory() && !stat.isSymbolicLink())) return;
  throw configError(key, `${dir} is ${describePath(dir, stat)}`, `Point ${key} at a folder (pgstrap creates it when missing); a symlink is not followed: name its target instead.`);
}

/**
 * Makes the state folder, or proves that the one there is pgstrap's: a real folder owned by this user that
 * holds the marker, or only what pgstrap makes (then it gets the marker). Never chowns or chmods it.
 */
export function prepareStateDir(config: ResolvedConfig): void {
  const dir = config.stateDir;
  const remedy = 'Set stateDir in the config to a folder of its own (the default is .pgstrap), or move that folder away.';
  assertConfiguredDir('stateDir', dir);
  assertConfiguredDir('dataDir', config.dataDir);
  assertConfiguredDir('socketDir', config.socketDir);
  const marker = path.join(dir, STATE_MARKER);
  if (lstatOrUndefined(dir) === undefined) {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    try {
      fs.mkdirSync(dir, { mode: 0o755 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const stat = fs.lstatSync(dir);
  if (stat.uid !== currentUid()) throw configError('stateDir', `${dir} is ${describePath(dir, stat)}, not this user's (${userNameOf(currentUid())})`, remedy);
  if ((stat.mode & 0o022) !== 0) throw configError('stateDir', `${dir} is ${describePath(dir, stat)}: others may write to it`, `chmod go-w ${dir}, or ${remedy[0]!.toLowerCase()}${remedy.slice(1)}`);
  const markerStat = lstatOrUndefined(marker);
  if (markerStat?.isFile() && markerStat.uid === currentUid()) return;
  const foreign = fs.readdirSync(dir).filter((name) => name !== STATE_MARKER && !STATE_ENTRIES.some((re) => re.test(name)));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, and ${foreign.length - 5} more` : '');
    throw configError('stateDir', `${dir} already holds files pgstrap did not make (${shown})`, remedy);
  }
  writeFileAtomic(marker, 'This folder holds a pgstrap cluster\'s runtime state; see extensions.config.ts.\n', { mode: 0o644 });
}

/** The folder under which relocated state lives: only root may create entries there. */
export function relocationBase(): string {
  return path.join(fs.existsSync('/var/lib') ? '/var/lib' : '/var/db', 'pgstrap');
}

/**
 * The folder a project's runtime state moves to when the server user cannot reach the project; `name` for a
 * second cluster of the project (its throwaway test cluster), whose folder is a sibling: one folder would give
 * the two servers one log file (and, without a dataDir of its own, one data directory).
 */
export function relocationDir(projectDir: string, name?: string | undefined): string {
  return path.join(relocationBase(), name === undefined ? projectTag(projectDir) : `${projectTag(projectDir)}-${name}`);
}

/** Makes (or proves) the root-owned relocation folder for a project (or for its cluster `name`). */
function prepareRelocation(projectDir: string, name: string | undefined): string {
  const context = {
    purpose: 'where pgstrap keeps runtime state the server user cannot reach in the project',
    remedy: 'Remove it if nobody uses it (it is not pgstrap\'s as it stands), or set stateDir in the config to a folder the server user can reach.',
  };
  const base = relocationBase();
  ensureTrustedDir(base, 0o755, context, true);
  const dir = relocationDir(projectDir, name);
  ensureTrustedDir(dir, 0o755, context, true);
  return dir;
}

/** The short socket folder recorded for this project, if it is still there and private to `owner`. */
function recordedSocketDir(config: ResolvedConfig, owner: number): string | undefined {
  let dir: string;
  try {
    dir = fs.readFileSync(path.join(config.stateDir, SOCKET_RECORD), 'utf8').trim();
  } catch {
    return undefined;
  }
  const stat = lstatOrUndefined(dir);
  if (!stat || stat.isSymbolicLink() || !stat.isDirectory() || stat.uid !== owner || (stat.mode & 0o077) !== 0) return undefined;
  return dir;
}

/** A short socket folder: the recorded one, or a new one with an unguessable name (mkdtemp, 0700), recorded. */
function shortSocketDir(config: ResolvedConfig, user: ServerUser | undefined): string {
  const owner = user?.uid ?? currentUid();
  const recorded = recordedSocketDir(config, owner);
  if (recorded) return recorded;
  // Not os.tmpdir(): nix develop sets a new TMPDIR per shell, and macOS's is long; /tmp is short and stable.
  const dir = fs.mkdtempSync(path.join(fs.existsSync('/tmp') ? '/tmp' : os.tmpdir(), 'pgstrap-'));
  if (user) fs.chownSync(dir, user.uid, user.gid);
  const record = path.join(config.stateDir, SOCKET_RECORD);
  try {
    // Exclusive: two commands at once agree on the first one's folder.
    fs.writeFileSync(record, `${dir}\n`, { mode: 0o644, flag: 'wx' });
    return dir;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const theirs = recordedSocketDir(config, owner);
  if (theirs) {
    fs.rmdirSync(dir);
    return theirs;
  }
  // The recorded folder is gone or not private any more: replace the record.
  writeFileAtomic(record, `${dir}\n`, { mode: 0o644 });
  return dir;
}

/** Computes the layout: proves or makes the state folder; as root, relocates what the server user cannot reach. */
export async function placeCluster(config: ResolvedConfig, user: ServerUser | undefined): Promise<ClusterLayout> {
  prepareStateDir(config);
  // The dev shell's hook reads the port here (nix/extensions.json holds none: a derived port is one machine's).
  await recordPort(path.join(config.stateDir, PORT_FILE), config.port);
  let relocateTo: string | undefined;
  if (user && !(await canReach(user, config.stateDir))) {
    for (const [key, dir] of [['dataDir', config.dataDir], ['socketDir', config.socketDir]] as const) {
      if (dir !== undefined && !(await canReach(user, path.dirname(dir)))) {
        throw new PgstrapError({
          code: 'root.unreachable',
          message: `${key} ${dir} is not reachable by the server user "${user.name}" (a parent folder is not executable for it)`,
          remedy: `Choose a ${key} outside a private home folder, e.g. /var/lib/pgstrap-data, or remove ${key} so pgstrap relocates it.`,
          exit: ExitCode.environment,
        });
      }
    }
    relocateTo = prepareRelocation(config.projectDir, config.clusterName);
  }
  const preferred = preferredSocketDir(config, relocateTo ?? config.stateDir);
  const short = config.socketDir === undefined && !socketFits(preferred) ? shortSocketDir(config, user) : undefined;
  return clusterLayout(config, { relocateTo, shortSocketDir: short });
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
        // A hard link shares the original's owner and mode: only for files nobody else may change.
        const stat = fs.statSync(src);
        if (stat.uid !== currentUid() || (stat.mode & 0o022) !== 0) throw new Error('copy instead');
        fs.linkSync(src, dst);
      } catch {
        fs.copyFileSync(src, dst);
        fs.chmodSync(dst, fs.statSync(src).mode & ~0o022);
      }
    }
  }
}

/**
 * Binaries the server user can execute: the originals when reachable, else a staged copy of their
 * installation prefix (bin/, lib/, share/) under the runtime folder, owned by this user and writable by
 * nobody else (root runs some of them too). Staged into a private folder, then renamed into place.
 */
export async function reachableBinaries(binaries: PostgresBinaries, user: ServerUser | undefined, layout: ClusterLayout): Promise<PostgresBinaries> {
  if (!user || (await canReach(user, path.join(binaries.binDir, 'postgres')))) return binaries;
  const prefix = path.dirname(binaries.binDir);
  const staged = path.join(layout.runtimeDir, `postgresql-${binaries.engine}-${binaries.version}`);
  const origin = `${binaries.origin} ${prefix}`;
  const context = { purpose: 'staged PostgreSQL binaries', remedy: `Remove ${staged}; the next run stages them again.` };
  assertTrustedDir(layout.runtimeDir, currentUid(), { purpose: 'the runtime state folder', remedy: 'Remove it; the next run makes it again.' });
  if (!isStaged(staged, origin, context)) {
    const temporary = fs.mkdtempSync(path.join(layout.runtimeDir, '.staging-'));
    fs.chmodSync(temporary, 0o755);
    linkTree(prefix, path.join(temporary, 'tree'));
    fs.writeFileSync(path.join(temporary, 'tree', '.pgstrap-origin'), origin, { mode: 0o644 });
    const old = path.join(layout.runtimeDir, `.staging-old-${process.pid}`);
    if (lstatOrUndefined(staged)) fs.renameSync(staged, old);
    try {
      fs.renameSync(path.join(temporary, 'tree'), staged);
    } catch (error) {
      // Another run staged the same binaries first: use theirs.
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    fs.rmSync(temporary, { recursive: true, force: true });
    fs.rmSync(old, { recursive: true, force: true });
    if (!isStaged(staged, origin, context)) throw new PgstrapError({ code: 'root.staging-failed', message: `could not stage PostgreSQL binaries in ${staged}`, remedy: context.remedy, exit: ExitCode.environment });
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

/** True when `staged` is a trusted staged copy of `origin`; throws when something untrusted sits there. */
function isStaged(staged: string, origin: string, context: { purpose: string; remedy: string }): boolean {
  if (!lstatOrUndefined(staged)) return false;
  assertTrustedDir(staged, currentUid(), context);
  try {
    return fs.readFileSync(path.join(staged, '.pgstrap-origin'), 'utf8') === origin;
  } catch {
    return false;
  }
}
