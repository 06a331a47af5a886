/** The system engine on Debian's PostgreSQL 15 (installed by .ci/run), and how auto chooses. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectTarget } from '../../scripts/server/select.ts';
import { databasesStep } from '../../scripts/databases/step.ts';
import { initialiseStep, settingsStep, startStep } from '../../scripts/cluster/step.ts';
import { debianPostgres, makeProject, managedTarget, query, runStepsQuietly, testEnv, type TestProject } from '../support/project.ts';

const debian = await debianPostgres(15);
const skip = 'skip' in debian ? debian.skip : undefined;

describe.skipIf(skip !== undefined)(`system engine on Debian PostgreSQL 15${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const binDir = 'binDir' in debian ? debian.binDir : '';
  let project: TestProject;

  beforeAll(async () => {
    project = await makeProject({ postgresMajor: 15, engine: 'system', databases: ['app'] });
  });
  afterAll(async () => project?.remove());

  it('uses PG_BIN, sets up, and changes nothing the second time', async () => {
    const target = await managedTarget(project, { env: testEnv(undefined, { PG_BIN: binDir }) });
    expect(target.kind).toBe('system');
    expect(target.binaries).toMatchObject({ major: 15, origin: 'PG_BIN', binDir });
    const clusterSteps = [initialiseStep, settingsStep, startStep, databasesStep];
    const first = await runStepsQuietly(clusterSteps, project.config, target);
    expect(first.filter((r) => r.changes.length > 0).map((r) => r.id)).toEqual(['cluster', 'start', 'databases']);
    const [row] = await query<{ v: string }>(target, 'app', "SELECT current_setting('server_version_num') AS v");
    expect(row?.v).toMatch(/^15/);
    const second = await runStepsQuietly(clusterSteps, project.config, target);
    expect(second.every((r) => r.changes.length === 0)).toBe(true);
  });

  it('names what it found when the major does not match', async () => {
    const config = { ...project.config, postgresMajor: 17 };
    await expect(selectTarget(config, { env: testEnv(undefined, { PG_BIN: binDir }) })).rejects.toMatchObject({
      code: 'engine.version-mismatch',
      message: expect.stringContaining('the system PostgreSQL is 15.'),
    });
  });

  it('auto prefers the system PostgreSQL of the right major, else the embedded one', async () => {
    const auto = { ...project.config, engine: 'auto' as const };
    const system = await selectTarget(auto, { env: testEnv(undefined, { PG_BIN: binDir }) });
    expect(system.kind).toBe('system');
    const embedded = await selectTarget({ ...auto, postgresMajor: 17 }, { env: testEnv(undefined, { PG_BIN: binDir }) });
    expect(embedded.kind).toBe('embedded');
    expect(embedded.kind !== 'external' && embedded.choice).toContain('the system PostgreSQL is 15');
  });

  it('refuses a data directory of another major instead of touching it', async () => {
    const config = { ...project.config, postgresMajor: 17, engine: 'embedded' as const };
    const target = await selectTarget(config, { env: testEnv() });
    const error = await runStepsQuietly([initialiseStep], config, target).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cluster.version-mismatch', message: expect.stringContaining('was initialised by PostgreSQL 15') });
  });
});
