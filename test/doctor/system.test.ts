/**
 * Doctor on the system engine (Debian's PostgreSQL 15 through PG_BIN, as nix develop sets it): the toolchain
 * names where the binaries came from, the embedded fallback is not needed, and the project is healthy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../scripts/doctor/run.ts';
import { debianPostgres, runCli, testEnv } from '../support/project.ts';
import { checkOf, doctorProject, notOk, type DoctorProject } from './support.ts';

const debian = await debianPostgres(15);
const skip = 'skip' in debian ? debian.skip : undefined;

describe.skipIf(skip !== undefined)(`doctor on the system engine, Debian PostgreSQL 15${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const binDir = 'binDir' in debian ? debian.binDir : '';
  let p: DoctorProject;

  beforeAll(async () => {
    p = await doctorProject({ engine: 'system', postgresMajor: 15, databases: ['app'], extensions: ['pgcrypto'] });
    const setup = await runCli(['setup', '--config', p.configFile], { cwd: p.project.dir, env: { PG_BIN: binDir } });
    expect(setup.exitCode, `${setup.stdout}\n${setup.stderr}`).toBe(0);
  });
  afterAll(async () => {
    await p?.project.remove();
  });

  it('reports the PG_BIN binaries, no need for the embedded ones, and a healthy project', async () => {
    const result = await runDoctor({ cwd: p.project.dir, config: p.configFile, env: testEnv(undefined, { PG_BIN: binDir }) });
    expect(checkOf(result, 'toolchain.postgres').message).toMatch(/^system PostgreSQL 15\.\d+ \(PG_BIN\)/);
    expect(checkOf(result, 'toolchain.embedded')).toMatchObject({ status: 'ok', message: 'no embedded PostgreSQL 15; not needed with engine "system"' });
    expect(checkOf(result, 'db.app.uuidv7').status).toBe('ok');
    expect(notOk(result)).toEqual([]);
  });
});
