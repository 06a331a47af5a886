/**
 * Servers pgstrap does not run, for the external-server tests: Debian's PostgreSQL 15 started by hand on
 * 127.0.0.1 (optionally with TLS, from a CA the test makes with openssl), and Debian's pgbouncer in front
 * of it. Each runs as the `postgres` user from a temporary folder of its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../scripts/server/process.ts';
import { freePort } from './project.ts';

export const PGBOUNCER = '/usr/sbin/pgbouncer';
export const DEBIAN15 = '/usr/lib/postgresql/15/bin';

/** Why the servers cannot run here, or undefined when they can. */
export function serversMissing(options: { pgbouncer?: boolean } = {}): string | undefined {
  if (!fs.existsSync(path.join(DEBIAN15, 'postgres'))) return 'Debian postgresql-15 is not installed (.ci/run installs it)';
  if (options.pgbouncer && !fs.existsSync(PGBOUNCER)) return 'pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)';
  if (process.getuid?.() !== 0) return 'the servers run as the postgres user, which needs root to switch to';
  return undefined;
}

/** A temporary folder the postgres user owns. */
function postgresDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  chownPostgres(dir);
  return dir;
}

function chownPostgres(file: string): void {
  const { uid, gid } = postgresIds();
  fs.chownSync(file, uid, gid);
}

let ids: { uid: number; gid: number } | undefined;
function postgresIds(): { uid: number; gid: number } {
  if (!ids) {
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
    if (!line) throw new Error('no postgres user');
    const [, , uid, gid] = line.split(':');
    ids = { uid: Number(uid), gid: Number(gid) };
  }
  return ids;
}

function asPostgres(program: string, args: string[]) {
  return run('runuser', ['-u', 'postgres', '--', program, ...args], { timeoutMs: 60_000 });
}

/** A CA and a server certificate it signed, as PEM files (the server's key readable by postgres only). */
export interface Certificates {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/** Makes a CA (`name`) and a server certificate for `altNames` (e.g. `IP:127.0.0.1,DNS:localhost`) signed by it. */
export async function makeCertificates(name: string, altNames: string): Promise<Certificates> {
  const dir = postgresDir(`pgstrap-${name}-`);
  const file = (f: string) => path.join(dir, f);
  const openssl = (args: string[]) => run('openssl', args, { timeoutMs: 60_000 });
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name} test CA`, '-keyout', file('ca.key'), '-out', file('ca.pem')]);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=pgstrap test server', '-keyout', file('server.key'), '-out', file('server.csr')]);
  fs.writeFileSync(file('ext.cnf'), `subjectAltName=${altNames}\n`);
  await openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('ext.cnf'), '-out', file('server.pem')]);
  for (const f of ['server.key', 'server.pem']) chownPostgres(file(f));
  fs.chmodSync(file('server.key'), 0o600);
  return { dir, caCert: file('ca.pem'), serverCert: file('server.pem'), serverKey: file('server.key') };
}

/** A running server: where it listens, its superuser's password, and how to stop it. */
export interface RunningServer {
  port: number;
  password: string;
  /** `postgresql://postgres:PASSWORD@HOST:PORT/DATABASE?QUERY`. */
  url(options?: { database?: string; host?: string; query?: string; user?: string; password?: string }): string;
  stop(): Promise<void>;
}

/** Starts Debian's PostgreSQL 15 on 127.0.0.1 and 127.0.0.2 with scram passwords; with `tls`, ssl=on and its certificate. */
export async function startServer(options: { tls?: Certificates; hba?: string; settings?: Record<string, string> } = {}): Promise<RunningServer> {
  const dir = postgresDir('pgstrap-server-');
  const data = path.join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2, 12)}`;
  fs.writeFileSync(path.join(dir, 'pwfile'), `${password}\n`);
  chownPostgres(path.join(dir, 'pwfile'));
  await asPostgres(path.join(DEBIAN15, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${path.join(dir, 'pwfile')}`, '--no-sync']);
  fs.writeFileSync(path.join(data, 'pg_hba.conf'), options.hba ?? 'local all all scram-sha-256\nhost all all 127.0.0.0/8 scram-sha-256\n');
  const port = await freePort();
  const settings: Record<string, string> = { listen_addresses: "'127.0.0.1,127.0.0.2'", port: String(port), unix_socket_directories: `'${dir}'`, fsync: 'off', ...options.settings };
  if (options.tls) Object.assign(settings, { ssl: 'on', ssl_cert_file: `'${options.tls.serverCert}'`, ssl_key_file: `'${options.tls.serverKey}'` });
  fs.appendFileSync(path.join(data, 'postgresql.conf'), Object.entries(settings).map(([k, v]) => `${k} = ${v}\n`).join(''));
  await asPostgres(path.join(DEBIAN15, 'pg_ctl'), ['start', '-w', '-D', data, '-l', path.join(dir, 'log')]);
  return {
    port,
    password,
    url: (o = {}) => `postgresql://${o.user ?? 'postgres'}:${encodeURIComponent(o.password ?? password)}@${o.host ?? '127.0.0.1'}:${port}/${o.database ?? ''}${o.query ? `?${o.query}` : ''}`,
    async stop() {
      await asPostgres(path.join(DEBIAN15, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate']).catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts pgbouncer in `mode` pooling on 127.0.0.1 in front of `server`, for the postgres user; stop() ends it by its pid. */
export async function startPgbouncer(server: RunningServer, mode: 'transaction' | 'session' = 'transaction'): Promise<RunningServer> {
  const dir = postgresDir('pgstrap-pgbouncer-');
  const port = await freePort();
  const file = (f: string) => path.join(dir, f);
  fs.writeFileSync(file('users.txt'), `"postgres" "${server.password}"\n`);
  fs.writeFileSync(
    file('pgbouncer.ini'),
    [
      '[databases]',
      `* = host=127.0.0.1 port=${server.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir = ${dir}`,
      'auth_type = scram-sha-256',
      `auth_file = ${file('users.txt')}`,
      `pool_mode = ${mode}`,
      'default_pool_size = 2',
      'max_client_conn = 50',
      `pidfile = ${file('pgbouncer.pid')}`,
      `logfile = ${file('pgbouncer.log')}`,
      // After a failed server login (setup connects to a database before creating it) pgbouncer waits this
      // long before it tries that database again; its default, 15 s, outlasts pgstrap's 10 s connect timeout.
      'server_login_retry = 1',
      // What pg sends at startup that pgbouncer does not track itself.
      'ignore_startup_parameters = extra_float_digits,statement_timeout',
      '',
    ].join('\n'),
  );
  for (const f of ['users.txt', 'pgbouncer.ini']) chownPostgres(file(f));
  await asPostgres(PGBOUNCER, ['-d', file('pgbouncer.ini')]);
  const pid = Number(await waitForFile(file('pgbouncer.pid')));
  return {
    port,
    password: server.password,
    url: (o = {}) => `postgresql://${o.user ?? 'postgres'}:${encodeURIComponent(o.password ?? server.password)}@${o.host ?? '127.0.0.1'}:${port}/${o.database ?? ''}${o.query ? `?${o.query}` : ''}`,
    async stop() {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Gone already.
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForFile(file: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync(file)) {
      const text = fs.readFileSync(file, 'utf8').trim();
      if (text) return text;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} did not appear`);
}
