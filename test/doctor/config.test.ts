/**
 * Doctor's Toolchain and Config checks: an invalid config (reported as a check, exit 1, nothing else
 * touched), the flake's extension list out of sync (its hint, npm run setup, and --fix both regenerate it),
 * and pure pieces of the check model.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { satisfiesNodeRange } from '../../scripts/core/doctor/node-range.ts';
import { settingMatches } from '../../scripts/core/doctor/setting-values.ts';
import { lastErrors } from '../../scripts/core/doctor/cluster.ts';
import { summarise, check } from '../../scripts/core/doctor/model.ts';
import { runCli } from '../support/project.ts';
import { checkOf, doctor, doctorProject, hintCommands, runFix, type DoctorProject } from './support.ts';

let p: DoctorProject;

beforeAll(async () => {
  p = await doctorProject({ databases: ['app'] });
});

afterAll(async () => {
  await p?.project.remove();
});

describe('doctor config checks', () => {
  it('reports an invalid config as a failed check naming every key, exits 1, and passes once the file is fixed', async () => {
    const bad = path.join(p.project.dir, 'bad.config.mjs');
    fs.writeFileSync(bad, `export default ${JSON.stringify({ engine: 'embedded', port: 'abc', databse: ['app'] })};\n`);
    const good = p.configFile;
    p.configFile = bad;
    const result = await doctor(p);
    const valid = checkOf(result, 'config.valid');
    expect(valid.status).toBe('fail');
    expect(valid.details).toEqual(expect.arrayContaining([expect.stringMatching(/^port: must be a whole number/), expect.stringMatching(/^databse: unknown key/)]));
    expect(valid.fix).toContain(bad);
    expect(result.checks.map((c) => c.group)).not.toContain('cluster');
    expect(result.summary.skipped.join(' ')).toMatch(/config does not load/);
    const cli = await runCli(['doctor', '--json', '--config', bad], { cwd: p.project.dir });
    expect(cli.exitCode).toBe(1);
    expect((JSON.parse(String(cli.stdout)) as { checks: Array<{ id: string; status: string }> }).checks).toContainEqual(expect.objectContaining({ id: 'config.valid', status: 'fail' }));
    // The fix: correct the file as the details say.
    p.configFile = good;
    expect(checkOf(await doctor(p), 'config.valid').status).toBe('ok');
  });

  it('fails config.flake when nix/extensions.json is out of date; npm run setup and doctor --fix regenerate it', async () => {
    fs.writeFileSync(path.join(p.project.dir, 'flake.nix'), '{ outputs = _: { }; }\n');
    p.configure({ databases: ['app'], extensions: [{ name: 'vector', required: false }] });
    const flake = checkOf(await doctor(p), 'config.flake');
    expect(flake.status).toBe('fail');
    expect(flake.message).toContain('lacks pgvector');
    expect(flake.fix).toBe('npm run setup');
    await runFix(p, flake);
    expect(checkOf(await doctor(p), 'config.flake').status).toBe('ok');

    p.configure({ databases: ['app'], extensions: [{ name: 'vector', required: false }, { name: 'pgmq', required: false }] });
    expect(checkOf(await doctor(p), 'config.flake')).toMatchObject({ status: 'fail', repair: 'flake' });
    const cli = await runCli(['doctor', '--fix', '--json', '--config', p.configFile], { cwd: p.project.dir });
    const doc = JSON.parse(String(cli.stdout)) as { fixed: { repairs: string[] }; checks: Array<{ id: string; status: string }> };
    expect(doc.fixed.repairs).toContain('flake');
    expect(doc.checks).toContainEqual(expect.objectContaining({ id: 'config.flake', status: 'ok' }));
    expect(cli.exitCode).toBe(0);
  });
});

describe('doctor check model (pure)', () => {
  it('matches engines.node ranges', () => {
    expect(satisfiesNodeRange('20.20.2', '>=20.5')).toBe(true);
    expect(satisfiesNodeRange('20.4.0', '>=20.5')).toBe(false);
    expect(satisfiesNodeRange('22.1.0', '^20.5.0 || ^22')).toBe(true);
    expect(satisfiesNodeRange('21.0.0', '^20.5.0 || ^22')).toBe(false);
    expect(satisfiesNodeRange('20.9.1', '~20.9')).toBe(true);
    expect(satisfiesNodeRange('20.10.0', '~20.9')).toBe(false);
    expect(satisfiesNodeRange('20.1.0', '20.x')).toBe(true);
    expect(satisfiesNodeRange('21.1.0', '>= 20 < 21')).toBe(false);
  });

  it('compares settings in the server units pg_settings reports', () => {
    const setting = (s: string, unit: string | undefined, vartype: string) => ({ name: 'x', setting: s, unit, vartype, pendingRestart: false });
    expect(settingMatches('256MB', setting('32768', '8kB', 'integer'))).toBe(true);
    expect(settingMatches('128MB', setting('32768', '8kB', 'integer'))).toBe(false);
    expect(settingMatches('5min', setting('300', 's', 'integer'))).toBe(true);
    expect(settingMatches('on', setting('on', undefined, 'bool'))).toBe(true);
    expect(settingMatches('true', setting('on', undefined, 'bool'))).toBe(true);
    expect(settingMatches('logical', setting('logical', undefined, 'enum'))).toBe(true);
  });

  it('picks the log lines of the process that logged the last FATAL', () => {
    const tail = [
      '10:00 UTC [11] LOG:  database system is shut down',
      '10:01 UTC [12] LOG:  unrecognized configuration parameter "x" in file "pgstrap.conf" line 6',
      '10:01 UTC [12] FATAL:  configuration file "pgstrap.conf" contains errors',
    ];
    expect(lastErrors(tail)).toEqual(tail.slice(1));
    expect(lastErrors(['[5] ERROR:  boom', '[6] LOG:  fine'])).toEqual(['[5] ERROR:  boom']);
    expect(lastErrors(['[6] LOG:  fine'])).toEqual([]);
  });

  it('fails on warnings only under --strict, and runs the backticked command of a hint', () => {
    const warn = [check('a', 'toolchain', 'ok', 'fine'), check('b', 'toolchain', 'warn', 'hmm', { fix: 'npm run setup' })];
    expect(summarise(warn, [], false)).toMatchObject({ healthy: true, exit: 0 });
    expect(summarise(warn, [], true)).toMatchObject({ healthy: false, exit: 1 });
    expect(check('c', 'toolchain', 'ok', 'fine', { fix: 'x', repair: 'start' })).toMatchObject({ fix: undefined, repair: undefined });
    expect(hintCommands('Restore it, or `npm run migrate -- --accept 1` records it')).toEqual(['npm run migrate -- --accept 1']);
    expect(hintCommands('npm run db:stop && npm run db:start')).toEqual(['npm run db:stop', 'npm run db:start']);
  });
});
