/**
 * TLS with libpq's sslmode meanings, against Debian's PostgreSQL 15 with ssl=on and a certificate from a CA
 * this test makes (for IP:127.0.0.1 only), over 127.0.0.1: every command works with verify-full and with
 * require; a wrong CA and a wrong host name fail saying which, with the fix; no password or key is printed.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTlsSettings, tlsOptions } from '../../scripts/server/tls.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { selectTarget } from '../../scripts/server/select.ts';
import { connectionFor } from '../../scripts/server/target.ts';
import { isPgstrapError } from '../../scripts/shared/errors.ts';
import { makeProject, runCli, testEnv, type TestProject } from '../support/project.ts';
import { makeCertificates, serversMissing, startServer, type Certificates, type RunningServer } from '../support/servers.ts';

describe('sslmode with libpq semantics (pure)', () => {
  const read = (file: string) => `PEM of ${file}`;
  const options = (query: string) => {
    const settings = readTlsSettings(new URL(`postgresql://h/db?${query}`));
    return settings && tlsOptions(settings, read);
  };

  it('require encrypts without checking the certificate, unless a root certificate is given (then as verify-ca)', () => {
    expect(options('sslmode=require')).toEqual({ rejectUnauthorized: false });
    const withCa = options('sslmode=require&sslrootcert=/ca.pem') as { ca: string; rejectUnauthorized: boolean; checkServerIdentity: () => undefined };
    expect(withCa).toMatchObject({ ca: 'PEM of /ca.pem', rejectUnauthorized: true });
    expect(withCa.checkServerIdentity()).toBeUndefined();
  });

  it('verify-full checks the CA and the host name; system means this machine’s CAs', () => {
    expect(options('sslmode=verify-full&sslrootcert=/ca.pem')).toEqual({ ca: 'PEM of /ca.pem', rejectUnauthorized: true });
    expect(options('sslmode=verify-full&sslrootcert=system')).toEqual({ rejectUnauthorized: true });
  });

  it('reads PGSSLMODE and PGSSLROOTCERT when the URL has no ssl parameter, as libpq does', () => {
    const env = { PGSSLMODE: 'verify-full', PGSSLROOTCERT: '/env-ca.pem' };
    expect(readTlsSettings(new URL('postgresql://h/db'), env)).toEqual({ mode: 'verify-full', rootcert: '/env-ca.pem', cert: undefined, key: undefined });
    expect(readTlsSettings(new URL('postgresql://h/db?sslmode=require'), env)).toEqual({ mode: 'require', rootcert: undefined, cert: undefined, key: undefined });
  });

  it('disable and no parameter mean plain text; a bad mode and verify-ca without a CA are refused', () => {
    expect(options('sslmode=disable')).toBe(false);
    expect(options('application_name=x')).toBeUndefined();
    expect(() => options('sslmode=on')).toThrow(/sslmode=on in the server URL \(or PGSSLMODE\) is not one of disable, allow, prefer, require, verify-ca, verify-full/);
    expect(() => options('sslmode=verify-ca')).toThrow(/verify-ca needs sslrootcert/);
  });
});

const missing = serversMissing();

describe.skipIf(missing !== undefined)(`a TLS server over 127.0.0.1${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let certs: Certificates;
  let otherCa: Certificates;
  let server: RunningServer;
  let project: TestProject;

  beforeAll(async () => {
    certs = await makeCertificates('good', 'IP:127.0.0.1');
    otherCa = await makeCertificates('other', 'IP:127.0.0.1');
    // Only encrypted connections from the network: a command that did not use TLS would fail.
    server = await startServer({ tls: certs, hba: 'local all all scram-sha-256\nhostssl all all 127.0.0.0/8 scram-sha-256\n' });
    project = await makeProject({ engine: 'external', databases: ['app'], extensions: ['pgcrypto'] });
    project.writeConfigFile({ engine: 'external', databases: ['app'], extensions: ['pgcrypto'] });
  }, 120_000);
  afterAll(async () => {
    await project?.remove();
    await server?.stop();
    for (const c of [certs, otherCa]) if (c) fs.rmSync(c.dir, { recursive: true, force: true });
  });

  const cli = (args: string[], url: string) => runCli([...args, '--url', url], { cwd: project.dir });
  const noSecrets = (text: string) => {
    expect(text).not.toContain(server.password);
    expect(text).not.toContain('PRIVATE KEY');
  };

  it('runs setup, doctor, verify, migrate, migrate:status and env with sslmode=verify-full and sslrootcert', async () => {
    fs.mkdirSync(`${project.dir}/migrations`, { recursive: true });
    fs.writeFileSync(`${project.dir}/migrations/20250101000000_items.sql`, 'CREATE TABLE items (id uuid PRIMARY KEY DEFAULT uuidv7());\n');
    const url = server.url({ query: `sslmode=verify-full&sslrootcert=${certs.caCert}` });
    for (const command of ['setup', 'doctor', 'verify', 'migrate', 'migrate:status']) {
      const result = await cli([command], url);
      expect({ command, code: result.exitCode, out: result.exitCode === 0 ? '' : result.stdout + result.stderr }).toEqual({ command, code: 0, out: '' });
      noSecrets(result.stdout + result.stderr);
    }
    // doctor says how the connection is protected.
    expect((await cli(['doctor'], url)).stdout).toContain(`encrypted (TLSv1.3), the certificate checked against ${certs.caCert} and the host name (sslmode=verify-full)`);
    const loose = await cli(['doctor'], server.url({ database: 'app', query: 'sslmode=require' }));
    expect(loose.stdout).toContain("encrypted (TLSv1.3), the server's certificate not checked (sslmode=require)");
    expect(loose.stdout).toContain('sslmode=verify-full with sslrootcert=FILE proves the server');
    const env = await cli(['env'], url);
    expect(env.exitCode).toBe(0);
    expect(env.stdout).toContain("export PGSSLMODE='verify-full'");
    expect(env.stdout).toContain(`export PGSSLROOTCERT='${certs.caCert}'`);
    expect(env.stdout).not.toContain('PGPASSWORD');
  }, 240_000);

  it('connects encrypted: pg_stat_ssl shows TLS for require (no CA given) and verify-full', async () => {
    for (const query of ['sslmode=require', `sslmode=verify-full&sslrootcert=${certs.caCert}`]) {
      const target = await selectTarget(project.config, { url: server.url({ database: 'app', query }), env: testEnv() });
      const ssl = await withClient(connectionFor(target, 'app'), async (c) => (await c.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]!.ssl);
      expect({ query, ssl }).toEqual({ query, ssl: true });
    }
  });

  it('refuses a certificate from another CA, naming the CA file, with the fix', async () => {
    const result = await cli(['verify'], server.url({ database: 'app', query: `sslmode=verify-full&sslrootcert=${otherCa.caCert}` }));
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(`the server's certificate is not signed by the CA in ${otherCa.caCert}`);
    expect(result.stderr).toContain('sslrootcert must name the CA that signed');
    noSecrets(result.stdout + result.stderr);
    // doctor says the same in its check, with the same fix.
    const doctor = await cli(['doctor'], server.url({ database: 'app', query: `sslmode=verify-full&sslrootcert=${otherCa.caCert}` }));
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toContain(`the server's certificate is not signed by the CA in ${otherCa.caCert}`);
    expect(doctor.stdout).toContain('sslrootcert must name the CA that signed');
    noSecrets(doctor.stdout + doctor.stderr);
  });

  it('refuses a certificate for another host name, naming both, with the fix', async () => {
    // The server listens on 127.0.0.2 too, but its certificate names 127.0.0.1 only.
    const target = await selectTarget(project.config, { url: server.url({ host: '127.0.0.2', database: 'app', query: `sslmode=verify-full&sslrootcert=${certs.caCert}` }), env: testEnv() });
    const error = await withClient(connectionFor(target, 'app'), async () => undefined).catch((e: unknown) => e);
    expect(isPgstrapError(error) && error.code).toBe('tls.wrong-host');
    expect((error as Error).message).toContain('the certificate is for IP Address:127.0.0.1, not 127.0.0.2');
    // verify-ca checks the CA only, as the remedy says.
    const caOnly = await selectTarget(project.config, { url: server.url({ host: '127.0.0.2', database: 'app', query: `sslmode=verify-ca&sslrootcert=${certs.caCert}` }), env: testEnv() });
    expect(await withClient(connectionFor(caOnly, 'app'), async (c) => (await c.query('SELECT 1 AS one')).rows[0]!.one)).toBe(1);
  });

  it('prefer falls back to plain text on a server without TLS; require there says the server offers none', async () => {
    const plain = await startServer();
    try {
      const target = await selectTarget(project.config, { url: plain.url({ database: 'postgres', query: 'sslmode=prefer' }), env: testEnv() });
      expect(await withClient(connectionFor(target, 'postgres'), async (c) => (await c.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]!.ssl)).toBe(false);
      const strict = await selectTarget(project.config, { url: plain.url({ database: 'postgres', query: 'sslmode=require' }), env: testEnv() });
      const error = await withClient(connectionFor(strict, 'postgres'), async () => undefined).catch((e: unknown) => e);
      expect(isPgstrapError(error) && [error.code, error.message]).toEqual(['tls.not-offered', expect.stringContaining('the server does not offer TLS, and sslmode=require needs it')]);
    } finally {
      await plain.stop();
    }
  });

  it('says the server wants TLS when the URL asks for none, and names a missing sslrootcert file', async () => {
    const plain = await cli(['verify'], server.url({ database: 'app' }));
    expect(plain.exitCode).toBe(4);
    expect(plain.stderr).toContain('the server accepts only encrypted connections');
    expect(plain.stderr).toContain('?sslmode=require');
    const gone = await cli(['verify'], server.url({ database: 'app', query: 'sslmode=verify-full&sslrootcert=/nonexistent/ca.pem' }));
    expect(gone.exitCode).toBe(2);
    expect(gone.stderr).toContain('sslrootcert=/nonexistent/ca.pem in the server URL cannot be read: ENOENT');
    noSecrets(plain.stdout + plain.stderr + gone.stdout + gone.stderr);
  });
});
