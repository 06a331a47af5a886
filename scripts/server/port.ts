/** Whether a TCP port on the loopback addresses is free, and which process holds it when it is not. */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { findOnPath, run } from './process.ts';
import { writeFileAtomic } from '../shared/write-file.ts';

/** True when `host`:`port` can be bound (for a moment, then released). */
function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

let loopback: Promise<readonly string[]> | undefined;

/**
 * The loopback addresses the cluster listens on: 127.0.0.1, and ::1 where this machine has IPv6 (asked once
 * per process, by binding a free port on it). Holding both means that no other local user can listen on
 * [::1] at the project's port and meet the clients that connect to `localhost`, which resolves to ::1
 * first on many systems (docs/robustness.md).
 */
export function loopbackHosts(): Promise<readonly string[]> {
  loopback ??= canBind(0, '::1').then((v6) => (v6 ? ['127.0.0.1', '::1'] : ['127.0.0.1']));
  return loopback;
}

/** The first loopback address (loopbackHosts) where something holds `port`; undefined when it is free on all. */
export async function loopbackHolding(port: number): Promise<string | undefined> {
  for (const host of await loopbackHosts()) if (!(await canBind(port, host))) return host;
  return undefined;
}

/** True when nothing listens on `port` on any loopback address (checked by binding it for a moment). */
export async function isPortFree(port: number): Promise<boolean> {
  return (await loopbackHolding(port)) === undefined;
}

/** Linux's lowest port an unprivileged process may bind (`net.ipv4.ip_unprivileged_port_start`); undefined elsewhere. */
async function unprivilegedPortStart(): Promise<number | undefined> {
  const text = await fs.readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').catch(() => undefined);
  const value = Number(text?.trim());
  return text === undefined || !Number.isInteger(value) ? undefined : value;
}

/**
 * Fails when the server, which never runs as root, could not bind `port`: found before initdb rather
 * than as a failed start after it. `who` names the account for the message.
 */
export async function assertPortBindable(port: number, who: string, configFile: string | undefined): Promise<void> {
  const start = await unprivilegedPortStart();
  if (start === undefined || port >= start) return;
  throw new PgstrapError({
    code: 'config.port-privileged',
    message: `port ${port} is below ${start}: the server runs as ${who}, which cannot bind it (net.ipv4.ip_unprivileged_port_start = ${start})`,
    details: [`port in ${configFile ?? 'the config'}`],
    remedy: `Choose a port from ${start} up (PostgreSQL's own is 5432), or remove port for the default.`,
    exit: ExitCode.usage,
  });
}

/** The first port from `base` on (within `span`) that nothing listens on. */
export async function firstFreePort(base: number, span = 200): Promise<number> {
  for (let port = base; port < base + span; port += 1) if (await isPortFree(port)) return port;
  throw new PgstrapError({
    code: 'port.none-free',
    message: `no TCP port free on the loopback addresses in ${base}..${base + span - 1}`,
    remedy: 'Stop servers you no longer need, or try again later.',
    exit: ExitCode.environment,
  });
}

/** A best-effort description of the listener on `port`, e.g. `pid 812 (postgres)`; undefined if unknown. */
export async function describePortHolder(port: number): Promise<string | undefined> {
  const viaProc = await holderFromProc(port);
  if (viaProc) return viaProc.pid === undefined ? 'a process this user cannot see' : `pid ${viaProc.pid}${viaProc.comm ? ` (${viaProc.comm})` : ''}`;
  const lsof = findOnPath('lsof');
  if (lsof) {
    const result = await run(lsof, ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { reject: false, timeoutMs: 5000 });
    const pid = /^p(\d+)/m.exec(String(result.stdout))?.[1];
    const command = /^c(.+)$/m.exec(String(result.stdout))?.[1];
    if (pid) return `pid ${pid}${command ? ` (${command})` : ''}`;
  }
  return undefined;
}

/** The pid of the process listening on `port` (Linux, through /proc), or undefined when none is seen. */
export async function portHolderPid(port: number): Promise<number | undefined> {
  return (await holderFromProc(port))?.pid;
}

// Linux: find the listening socket's inode in /proc/net/tcp*, then the process whose fd points at it.
async function holderFromProc(port: number): Promise<{ pid: number | undefined; comm: string } | undefined> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await fs.readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is col 1 (ADDR:PORT); state 0A is LISTEN; inode is col 9.
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A' && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  const pids = await fs.readdir('/proc').catch(() => [] as string[]);
  for (const pid of pids.filter((p) => /^\d+$/.test(p))) {
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        const comm = (await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
        return { pid: Number(pid), comm };
      }
    }
  }
  return { pid: undefined, comm: '' };
}

/**
 * `<stateDir>/port`: the project's port, for the dev shell's hook, which reads it without starting Node (the
 * committed nix/extensions.json holds no port: a derived port differs between machines). One line, the number.
 */
export const PORT_FILE = 'port';

/** Writes `port` to `file` (`<stateDir>/port`, or the test cluster's) unless it holds it already; a folder that cannot be written is left alone. */
export async function recordPort(file: string, port: number): Promise<void> {
  const text = `${port}\n`;
  try {
    if ((await fs.readFile(file, 'utf8')) === text) return;
  } catch {
    // Absent: write it.
  }
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    writeFileAtomic(file, text);
  } catch {
    // The shell then derives the default itself; the commands do not depend on this file.
  }
}

/** The port a file recordPort wrote holds, or undefined when it is absent or holds no port. */
export async function readRecordedPort(file: string): Promise<number | undefined> {
  try {
    const port = Number((await fs.readFile(file, 'utf8')).trim());
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}
