/**
 * Messages that fit the case, on the embedded PostgreSQL 17 (pgcrypto can be created at 1.3 only): a pinned
 * version the server lacks names the versions it has; a pin older than the installed version is named a
 * downgrade by setup and doctor, which do not offer setup as its fix; an error after earlier steps changed
 * things says what they did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { makeProject, runCli, type TestProject } from '../support/project.ts';

describe('extension messages on embedded PostgreSQL 17', () => {
  let project: TestProject;
  const base: PgstrapConfig = { engine: 'embedded', databases: ['app', 'app_test'] };
  const configure = (extensions: PgstrapConfig['extensions']) => project.writeConfigFile({ ...base, port: project.config.port, extensions });

  beforeAll(async () => {
    project = await makeProject(base);
  });
  afterAll(async () => project?.remove());

  it('names the versions the server has for a missing pinned version, and what this run did before it stopped', async () => {
    configure([{ name: 'pgcrypto', version: '9.9' }]);
    const result = await runCli(['setup'], { cwd: project.dir });
    const stderr = String(result.stderr);
    expect(result.exitCode, stderr).toBe(3);
    expect(stderr).toMatch(/pgcrypto \(app, app_test\): pgcrypto version 9\.9 is not available on embedded PostgreSQL 17\.\d+ \([^)]*\), which has 1\.3/);
    expect(stderr).toContain("fix: Pin that one (version: '1.3'), or drop version to get the default (1.3).");
    expect(stderr).not.toContain('nix develop');
    expect(stderr).not.toContain('nothing was changed');
    expect(stderr).toContain('before this step, this run had (kept):');
    expect(stderr).toMatch(/  initialised .*\n/);
    expect(stderr).toContain('  created database app');
  });

  it('names a downgrade as such, in setup and in doctor, and does not claim setup fixes it', async () => {
    configure([{ name: 'pgcrypto', version: '1.3' }]);
    expect((await runCli(['setup'], { cwd: project.dir })).exitCode).toBe(0);
    configure([{ name: 'pgcrypto', version: '1.2' }]);
    const setup = await runCli(['setup'], { cwd: project.dir });
    const stderr = String(setup.stderr);
    expect(setup.exitCode, stderr).toBe(2);
    expect(stderr).toContain('pinned versions older than the installed ones: downgrades, which ALTER EXTENSION cannot do');
    expect(stderr).toContain('app: pgcrypto is pinned to 1.2, older than the 1.3 installed: a downgrade, which ALTER EXTENSION cannot do');
    // pgcrypto 1.3 ships no script that creates 1.2, so there is no going back on this server.
    expect(stderr).toContain("Pin the installed version (version: '1.3') or drop version: this server has no 1.2 to go back to (it has 1.3).");
    expect(stderr).not.toContain('no update path');

    const doctor = await runCli(['doctor', '--json'], { cwd: project.dir });
    const checks = (JSON.parse(String(doctor.stdout)) as { checks: Array<{ id: string; status: string; message: string; fix: string | null; fixable: boolean }> }).checks;
    expect(checks.find((c) => c.id === 'db.app.extension.pgcrypto')).toMatchObject({
      status: 'fail',
      message: 'pgcrypto is pinned to 1.2, older than the 1.3 installed: a downgrade, which ALTER EXTENSION cannot do',
      fixable: false,
    });
    expect(checks.find((c) => c.id === 'db.app.extension.pgcrypto')!.fix).not.toContain('npm run setup` again');
    const fix = await runCli(['doctor', '--fix'], { cwd: project.dir });
    expect(String(fix.stdout)).not.toMatch(/extension\.failed|no update path/);
  });
});
