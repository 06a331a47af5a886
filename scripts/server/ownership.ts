/**
 * Folders pgstrap may trust: it uses a folder only when it created it, or when its owner, mode and type
 * prove that nobody else could have put anything in it. Never follows a symlink, never takes over a
 * folder by chown or chmod.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { readAccounts } from './server-user.ts';

/** The account name of `uid` from /etc/passwd, or `uid N` when it has none. */
export function userNameOf(uid: number): string {
  return readAccounts().find((account) => account.uid === uid)?.name ?? `uid ${uid}`;
}

/** `drwxr-xr-x`-style text of a mode's permission bits, e.g. `0755`. */
export function octalMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/** What a path is, in words, from lstat: `a symlink to /x`, `a file`, `a folder owned by bob (0777)`. */
export function describePath(file: string, stat: fs.Stats): string {
  if (stat.isSymbolicLink()) return `a symlink to ${fs.readlinkSync(file)}`;
  if (!stat.isDirectory()) return 'a file, not a folder';
  return `a folder owned by ${userNameOf(stat.uid)} (mode ${octalMode(stat.mode)})`;
}

/** lstat, or undefined when nothing is there. */
export function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The uid of this process (0 where the platform has none). */
export function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

/** Why `stat` is not a folder that only `uid` (or root) can change, or undefined when it is one. */
export function untrustedReason(stat: fs.Stats, uid: number): string | undefined {
  if (stat.isSymbolicLink()) return 'it is a symlink';
  if (!stat.isDirectory()) return 'it is not a folder';
  if (stat.uid !== uid && stat.uid !== 0) return `it belongs to ${userNameOf(stat.uid)}, not ${userNameOf(uid)}`;
  if ((stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0) return `others may write to it (mode ${octalMode(stat.mode)})`;
  return undefined;
}

/** What `assertTrustedDir` and `ensureTrustedDir` say when a folder is not one pgstrap may use. */
export interface TrustContext {
  /** What the folder is for, e.g. `the relocated state folder`. */
  purpose: string;
  /** What a user does about it. */
  remedy: string;
}

function untrusted(dir: string, stat: fs.Stats, reason: string, context: TrustContext): PgstrapError {
  return new PgstrapError({
    code: 'state.untrusted-folder',
    message: `${dir} (${context.purpose}) is ${describePath(dir, stat)}; pgstrap will not use it: ${reason}`,
    remedy: context.remedy,
    exit: ExitCode.environment,
  });
}

/**
 * Throws unless `dir` is a real folder that only `uid` or root can change; with `ancestors`, every folder
 * above it too (a sticky folder such as /tmp counts as safe above, never as the folder itself).
 */
export function assertTrustedDir(dir: string, uid: number, context: TrustContext, ancestors = false): void {
  const stat = lstatOrUndefined(dir);
  if (stat === undefined) {
    throw new PgstrapError({ code: 'state.missing-folder', message: `${dir} (${context.purpose}) does not exist`, remedy: context.remedy, exit: ExitCode.environment });
  }
  const reason = untrustedReason(stat, uid) ?? ((stat.mode & 0o1000) !== 0 ? `others may create entries in it (mode ${octalMode(stat.mode)})` : undefined);
  if (reason) throw untrusted(dir, stat, reason, context);
  if (!ancestors) return;
  for (let parent = path.dirname(dir); parent !== path.dirname(parent); parent = path.dirname(parent)) {
    const above = fs.lstatSync(parent);
    const why = untrustedReason(above, uid);
    if (why) throw untrusted(parent, above, `a folder above ${dir}: ${why}`, context);
  }
}

/**
 * Makes `dir` (mode `mode`, owned by this process; its parent must exist) unless it is there, then
 * verifies it is trusted.
 * Returns true when this call created it.
 */
export function ensureTrustedDir(dir: string, mode: number, context: TrustContext, ancestors = false): boolean {
  let created = false;
  try {
    fs.mkdirSync(dir, { mode });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  assertTrustedDir(dir, currentUid(), context, ancestors);
  return created;
}
