/**
 * Doctor against one real embedded cluster, broken and repaired in turn: healthy, stopped, stale pid,
 * port held by another listener, missing database, extension not installed, loose file modes, --fix,
 * and the same server seen as an external target. Each broken check's fix hint is run and must make it pass.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../scripts/doctor/run.ts';
import { readPassword } from '../../scripts/server/target.ts';
import { killPostmaster, managedTarget, query, runCli, testEnv } from '../support/project.ts';
import { checkOf, doctor, notOk, OLD_NODE, runFix, setUpProject, type DoctorProject } from './support.ts';

let p: DoctorProject;

beforeAll(async () => {
  p = await setUpProject({ databases: ['app'], extensions: ['pgcrypto'] });
});

afterAll(async () => {
  await p?.project.remove();
});

describe('doctor on a managed cluster', () => {
  it('finds a freshly set up project healthy: every check ok, exit 0, one JSON document', async () => {
    // On a Node older than 22 (past its end of life) the one warning is toolchain.pgstrap-node, so --strict would fail there, rightly.
    const result = await doctor(p, !OLD_NODE);
    expect(notOk(result)).toEqual([]);
    expect(result.summary).toMatchObject({ fail: 0, warn: OLD_NODE ? 1 : 0, healthy: true, exit: 0 });
    for (const id of ['toolchain.node', 'toolchain.postgres', 'config.valid', 'cluster.running', 'cluster.port', 'cluster.data-dir', 'cluster.preload', 'connect.socket', 'connect.tcp', 'connect.password-file', 'db.app.exists', 'db.app.extension.pgcrypto', 'db.app.uuidv7', 'db.app.migrations']) {
      expect(checkOf(result, id).status).toBe('ok');
    }
    const cli = await runCli(['doctor', '--json', ...(OLD_NODE ? [] : ['--strict']), '--config', p.configFile], { cwd: p.project.dir });
    expect(cli.exitCode, String(cli.stderr)).toBe(0);
    const doc = JSON.parse(String(cli.stdout)) as { ok: boolean; checks: Array<Record<string, unknown>>; summary: Record<string, unknown> };
    expect(doc.ok).toBe(true);
    expect(doc.summary).toMatchObject({ fail: 0, exit: 0 });
    expect(Object.keys(doc.checks[0]!)).toEqual(expect.arrayContaining(['id', 'group', 'status', 'message', 'fix']));
  });

  it('fails cluster.running when the server is stopped; its fix starts it', async () => {
    await (await managedTarget(p.project)).cluster.stop();
    const result = await doctor(p);
    const running = checkOf(result, 'cluster.running');
    expect(running).toMatchObject({ status: 'fail', fix: 'npm run db:start', repair: 'start' });
    expect(result.summary.exit).toBe(1);
    expect(result.summary.skipped.join(' ')).toMatch(/not running/);
    const cli = await runCli(['doctor', '--config', p.configFile], { cwd: p.project.dir });
    expect(cli.exitCode).toBe(1);
    expect(String(cli.stdout)).toMatch(/✗ not running\n\s+fix: npm run db:start/);
    await runFix(p, running);
    expect(checkOf(await doctor(p), 'cluster.running').status).toBe('ok');
  });

  it('warns about a stale postmaster.pid after kill -9; its fix recovers and starts the server', async () => {
    const target = await managedTarget(p.project);
    const pid = await killPostmaster(target);
    const result = await doctor(p);
    const stale = checkOf(result, 'cluster.stale-pid');
    expect(stale.status).toBe('warn');
    expect(stale.message).toContain(`pid ${pid}`);
    expect(checkOf(result, 'cluster.running').status).toBe('fail');
    await runFix(p, stale);
    const after = await doctor(p);
    expect(checkOf(after, 'cluster.stale-pid').status).toBe('ok');
    expect(checkOf(after, 'cluster.running').status).toBe('ok');
  });

  it('fails cluster.port when another listener holds the port, naming it; freeing the port fixes it', async () => {
    await (await managedTarget(p.project)).cluster.stop();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(p.project.config.port, '127.0.0.1', resolve));
    try {
      const port = checkOf(await doctor(p), 'cluster.port');
      expect(port.status).toBe('fail');
      expect(port.message).toContain(`pid ${process.pid}`);
      expect(port.fix).toContain(`Stop pid ${process.pid}`);
    } finally {
      // The hint: stop that process (this one's listener).
      await new Promise((resolve) => holder.close(resolve));
    }
    const result = await doctor(p);
    expect(checkOf(result, 'cluster.port').status).toBe('ok');
    await runFix(p, checkOf(result, 'cluster.running'));
  });

  it('fails db.<name>.exists for a missing database; npm run setup creates it', async () => {
    const target = await managedTarget(p.project);
    // The server's questions ride on the first database's connection: without it, on the maintenance database's.
    expect(checkOf(await doctor(p), 'connect.socket').message).toMatch(/\/app: PostgreSQL \d+/);
    await query(target, 'postgres', 'DROP DATABASE app');
    const missing = await doctor(p);
    const exists = checkOf(missing, 'db.app.exists');
    expect(exists).toMatchObject({ status: 'fail', message: 'does not exist', fix: 'npm run setup', repair: 'databases' });
    expect(checkOf(missing, 'connect.socket')).toMatchObject({ status: 'ok', message: expect.stringMatching(/\/postgres: PostgreSQL \d+/) });
    await runFix(p, exists);
    const after = await doctor(p);
    expect(checkOf(after, 'db.app.exists').status).toBe('ok');
    expect(after.summary.fail).toBe(0);
  });

  it('fails an available extension that is not installed; npm run setup enables it', async () => {
    await query(await managedTarget(p.project), 'app', 'DROP EXTENSION pgcrypto');
    const ext = checkOf(await doctor(p), 'db.app.extension.pgcrypto');
    expect(ext).toMatchObject({ status: 'fail', fix: 'npm run setup', repair: 'extensions' });
    await runFix(p, ext);
    expect(checkOf(await doctor(p), 'db.app.extension.pgcrypto').status).toBe('ok');
  });

  it('flags a data directory wider than 0700 and a password file wider than 0600; the chmod hints fix them', async () => {
    const { layout } = await managedTarget(p.project);
    fs.chmodSync(layout.dataDir, 0o755);
    fs.chmodSync(layout.passwordFile, 0o644);
    const result = await doctor(p);
    const dataDir = checkOf(result, 'cluster.data-dir');
    const password = checkOf(result, 'connect.password-file');
    expect(dataDir).toMatchObject({ status: 'fail', fix: `chmod 700 ${layout.dataDir}` });
    expect(password).toMatchObject({ status: 'warn', fix: `chmod 600 ${layout.passwordFile}` });
    await runFix(p, dataDir);
    await runFix(p, password);
    const after = await doctor(p);
    expect(checkOf(after, 'cluster.data-dir').status).toBe('ok');
    expect(checkOf(after, 'connect.password-file').status).toBe('ok');
  });

  it('fails connect.tcp when the password file does not match the server, and says how to reset it', async () => {
    const { layout } = await managedTarget(p.project);
    const saved = fs.readFileSync(layout.passwordFile, 'utf8');
    fs.writeFileSync(layout.passwordFile, 'not-the-password\n');
    try {
      const tcp = checkOf(await doctor(p), 'connect.tcp');
      expect(tcp.status).toBe('fail');
      expect(tcp.message).toContain('the server rejects the password in the password file');
      expect(tcp.fix).toContain('ALTER ROLE postgres PASSWORD');
    } finally {
      fs.writeFileSync(layout.passwordFile, saved);
    }
    expect(checkOf(await doctor(p), 'connect.tcp').status).toBe('ok');
  });

  it('--fix starts the cluster and enables the extension, then checks again and exits 0', async () => {
    const target = await managedTarget(p.project);
    await query(target, 'app', 'DROP EXTENSION pgcrypto');
    await target.cluster.stop();
    const cli = await runCli(['doctor', '--fix', '--json', '--config', p.configFile], { cwd: p.project.dir });
    expect(cli.exitCode, `${cli.stdout}\n${cli.stderr}`).toBe(0);
    const doc = JSON.parse(String(cli.stdout)) as { fixed: { repairs: string[]; changes: string[]; error: unknown }; summary: { fail: number } };
    // The extension check can only run once the server is up: the second round finds and fixes it.
    expect(doc.fixed.repairs).toEqual(['start', 'extensions']);
    expect(doc.fixed.error).toBeUndefined();
    expect(doc.fixed.changes.join('\n')).toMatch(/created extension pgcrypto/);
    expect(doc.summary.fail).toBe(0);
    expect(checkOf(await doctor(p), 'db.app.extension.pgcrypto').status).toBe('ok');
  });

  it('checks the same server as an external target: reachable, version, missing extensions, uuidv7 path', async () => {
    const target = await managedTarget(p.project);
    const url = `postgresql://postgres:${encodeURIComponent(readPassword(target.layout)!)}@127.0.0.1:${p.project.config.port}/app`;
    p.configure({ databases: ['app'], extensions: ['pgcrypto', { name: 'vector', required: false }] });
    const result = await runDoctor({ cwd: p.project.dir, config: p.configFile, url, env: testEnv() });
    expect(checkOf(result, 'external.reachable').status).toBe('ok');
    expect(checkOf(result, 'external.version').message).toMatch(/^PostgreSQL 17\./);
    expect(checkOf(result, 'external.extensions')).toMatchObject({ status: 'warn', message: 'lacks vector (optional)' });
    expect(checkOf(result, 'external.uuidv7').message).toContain('SQL fallback');
    expect(checkOf(result, 'db.app.exists').status).toBe('ok');
    expect(result.checks.some((c) => c.group === 'cluster')).toBe(false);
    expect(path.isAbsolute(p.configFile)).toBe(true);
  });

  it('shows the log file and its last error lines when the server is down; npm run db:start rewrites the broken file and starts it', async () => {
    const target = await managedTarget(p.project);
    await target.cluster.stop();
    // A setting PostgreSQL does not know, as a hand edit of the managed file would leave it.
    fs.appendFileSync(path.join(target.layout.dataDir, 'pgstrap.conf'), "no_such_setting = '1'\n");
    // pg_ctl start alone (db:start would first rewrite the managed file from the config).
    await expect(target.cluster.start(p.project.config.port)).rejects.toThrow(/did not start/);
    const log = checkOf(await doctor(p), 'cluster.log');
    expect(log.status).toBe('warn');
    expect(log.message).toContain(target.layout.logFile);
    expect(log.details.join('\n')).toMatch(/no_such_setting/);
    expect(log.fix).toContain(`tail -n 50 ${target.layout.logFile}`);
    // The hint's command: db:start rewrites pgstrap.conf from the config, then starts.
    const start = await runCli(['start', '--config', p.configFile], { cwd: p.project.dir });
    expect(start.exitCode, String(start.stderr)).toBe(0);
    expect(checkOf(await doctor(p), 'cluster.log')).toMatchObject({ status: 'ok', details: [] });
  });
});
