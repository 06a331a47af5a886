/**
 * Doctor's Toolchain and Config checks: an invalid config (reported as a check, exit 1, nothing else
 * touched), the flake's extension list out of sync (its hint, npm run setup, and --fix both regenerate it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/project.ts';
import { checkOf, doctor, doctorProject, runFix, type DoctorProject } from './support.ts';

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
    // The project's own config file: nix/extensions.json follows it alone (a scratch --config never rewrites it).
    p.configFile = p.project.writeConfigFile({ engine: 'embedded', port: p.project.config.port, databases: ['app'], extensions: [{ name: 'vector', required: false }] });
    const flake = checkOf(await doctor(p), 'config.flake');
    expect(flake.status).toBe('fail');
    expect(flake.message).toContain('lacks pgvector');
    expect(flake.fix).toBe('npm run setup');
    await runFix(p, flake);
    expect(checkOf(await doctor(p), 'config.flake').status).toBe('ok');

    // Another of the project's own names: a module once imported keeps its first content in this process.
    fs.rmSync(p.configFile);
    p.configFile = path.join(p.project.dir, 'extensions.config.js');
    fs.writeFileSync(p.configFile, `export default ${JSON.stringify({ engine: 'embedded', port: p.project.config.port, databases: ['app'], extensions: [{ name: 'vector', required: false }, { name: 'pgmq', required: false }] })};\n`);
    const stale = checkOf(await doctor(p), 'config.flake');
    expect(stale, JSON.stringify(stale)).toMatchObject({ status: 'fail', repair: 'flake' });
    const cli = await runCli(['doctor', '--fix', '--json', '--config', p.configFile], { cwd: p.project.dir });
    const doc = JSON.parse(String(cli.stdout)) as { fixed: { repairs: string[] }; checks: Array<{ id: string; status: string }> };
    expect(doc.fixed.repairs).toContain('flake');
    expect(doc.checks).toContainEqual(expect.objectContaining({ id: 'config.flake', status: 'ok' }));
    expect(cli.exitCode).toBe(0);
  });
});
