/**
 * One pgstrap at a time in a project: every command that changes the cluster or its databases holds the
 * project lock (proper-lockfile: an atomic mkdir kept fresh while held, taken over once it goes stale,
 * so a lock left by a killed process frees itself). A waiter says whom it waits for.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { isProcessAlive } from './process.ts';
import type { Target } from './target.ts';
import type { Output } from '../shared/output.ts';
import { writeFileAtomic } from '../shared/write-file.ts';

/** A held lock goes stale this long after its holder stopped refreshing it (killed, frozen). */
const STALE_MS = 4000;
/** How often a holder refreshes its lock. */
const UPDATE_MS = 1000;
/** How long a command waits for another one before giving up. */
const WAIT_MS = 600_000;

/** Who holds the lock: written beside it by the holder, read by those who wait. */
export interface LockOwner {
  pid: number;
  command: string;
  host: string;
  since: string;
}

/** The lock folder and the owner file of a state folder. */
export function lockPaths(stateDir: string): { lock: string; owner: string } {
  return { lock: path.join(stateDir, 'lock'), owner: path.join(stateDir, 'lock.owner') };
}

/** The holder the owner file names, if it can be read. */
export function readLockOwner(stateDir: string): LockOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(lockPaths(stateDir).owner, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/** `pid 812 (setup, for 3 s)`, or with `, gone: its lock frees itself` when that process no longer runs. */
export function describeOwner(owner: LockOwner | undefined, now = Date.now()): string {
  if (!owner) return 'another pgstrap command';
  const seconds = Math.max(0, Math.round((now - Date.parse(owner.since)) / 1000));
  const gone = owner.host === os.hostname() && !isProcessAlive(owner.pid);
  return `pid ${owner.pid} (${owner.command}, for ${seconds} s)${gone ? ', which is gone: its lock frees itself within seconds' : ''}`;
}

/** Options for withProjectLock. */
export interface ProjectLockOptions {
  /** Told once, when the lock is held by someone else; by default nobody is. */
  onWait?: (line: string) => void;
  /** How long to wait in all (ms). */
  waitMs?: number;
}

/** proper-lockfile, loaded by the first lock taken: with graceful-fs, which patches fs as it loads, it cost the commands that take none (doctor, env, status) 6 ms. */
async function lockfileModule(): Promise<typeof import('proper-lockfile')> {
  return (await import('proper-lockfile')).default;
}

/**
 * Runs `fn` holding the project lock of `stateDir` (which must exist); waits for another holder, and
 * releases the lock however `fn` ends. `command` names this command for whoever waits on it.
 */
export async function withProjectLock<T>(stateDir: string, command: string, fn: () => Promise<T>, options: ProjectLockOptions = {}): Promise<T> {
  const paths = lockPaths(stateDir);
  const deadline = Date.now() + (options.waitMs ?? WAIT_MS);
  let compromised: Error | undefined;
  let release: (() => Promise<void>) | undefined;
  let told = false;
  while (release === undefined) {
    try {
      release = await (await lockfileModule()).lock(stateDir, {
        lockfilePath: paths.lock,
        realpath: false,
        stale: STALE_MS,
        update: UPDATE_MS,
        onCompromised: (error) => {
          compromised = error;
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      const owner = describeOwner(readLockOwner(stateDir));
      if (Date.now() > deadline) {
        throw new PgstrapError({
          code: 'lock.timeout',
          message: `another pgstrap command holds this project's lock: ${owner}`,
          remedy: 'Wait for it to finish, or stop it; a lock whose process was killed frees itself within seconds.',
          exit: ExitCode.environment,
        });
      }
      if (!told) options.onWait?.(`waiting for ${owner} to finish`);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    writeOwner(paths.owner, { pid: process.pid, command, host: os.hostname(), since: new Date().toISOString() });
    const result = await fn();
    if (compromised) throw lostLock(compromised);
    return result;
  } finally {
    fs.rmSync(paths.owner, { force: true });
    if (!compromised) await release().catch(() => undefined);
  }
}

/**
 * Says who holds the lock, for those who wait. Best effort: on a full disk the lock itself (a folder) is
 * taken, the file is not, and a command that frees space (`pgstrap stop`, say) must still run; waiters then
 * say "another pgstrap command". Written under a temporary name and renamed, so nobody reads half of it.
 */
function writeOwner(file: string, owner: LockOwner): void {
  try {
    writeFileAtomic(file, JSON.stringify(owner));
  } catch {
    // Nobody is told who holds the lock; it is held all the same.
  }
}

/**
 * Runs `fn` holding the project lock when `target` is the project's own cluster; an external server has
 * its own locks (the migrations' advisory lock), so there `fn` runs as it is. Whom it waits for goes to
 * `output`'s stderr.
 */
export function withTargetLock<T>(target: Target, command: string, output: Pick<Output, 'error'>, fn: () => Promise<T>): Promise<T> {
  if (target.kind === 'external') return fn();
  return withProjectLock(target.config.stateDir, command, fn, { onWait: (line) => output.error(`pgstrap: ${line}`) });
}

function lostLock(cause: Error): PgstrapError {
  return new PgstrapError({
    code: 'lock.lost',
    message: `this command lost the project lock while it ran (${cause.message})`,
    remedy: 'Run it again; if the machine was suspended or overloaded, that is the likely cause.',
    exit: ExitCode.environment,
    cause,
  });
}
