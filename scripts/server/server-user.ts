/**
 * PostgreSQL refuses to run as root. When pgstrap itself runs as root (containers, CI), the server runs
 * as an unprivileged user: `runAs` from the config, else `postgres` if it exists, else `nobody`.
 */
import fs from 'node:fs';
import { ExitCode, PgstrapError } from '../shared/errors.ts';

/** An unprivileged account the server processes run as. */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

/** True when this process runs as root. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The accounts in /etc/passwd (none where it cannot be read). */
export function readAccounts(): ServerUser[] {
  let passwd = '';
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    // No /etc/passwd: no accounts to name.
  }
  return passwd.split('\n').flatMap((line) => {
    const [name, , uid, gid] = line.split(':');
    return name && uid !== undefined && gid !== undefined ? [{ name, uid: Number(uid), gid: Number(gid) }] : [];
  });
}

/** Reads one account from /etc/passwd; undefined when it does not exist. */
async function lookupUser(name: string): Promise<ServerUser | undefined> {
  return readAccounts().find((account) => account.name === name);
}

/** The user the server must run as, or undefined when pgstrap is not root and runs it itself. */
export async function getServerUser(runAs: string | undefined): Promise<ServerUser | undefined> {
  if (!isRoot()) return undefined;
  if (runAs !== undefined) {
    const user = await lookupUser(runAs);
    if (!user) {
      throw new PgstrapError({
        code: 'root.user-missing',
        message: `runAs names the user "${runAs}", which does not exist on this machine`,
        remedy: `Create it (useradd --system ${runAs}) or change runAs in the config.`,
        exit: ExitCode.environment,
      });
    }
    if (user.uid === 0) {
      throw new PgstrapError({
        code: 'root.user-is-root',
        message: `runAs names "${runAs}", which is root; PostgreSQL refuses to run as root`,
        remedy: 'Set runAs to an unprivileged user.',
        exit: ExitCode.usage,
      });
    }
    return user;
  }
  const fallback = (await lookupUser('postgres')) ?? (await lookupUser('nobody'));
  if (!fallback) {
    throw new PgstrapError({
      code: 'root.no-user',
      message: 'running as root, and neither a "postgres" nor a "nobody" user exists to run the server as',
      remedy: 'Create one (useradd --system postgres), set runAs in the config, or run pgstrap as a normal user.',
      exit: ExitCode.environment,
    });
  }
  return fallback;
}
