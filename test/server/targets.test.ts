/**
 * Named targets: `--target staging` reads the server's URL from the environment variable the config names;
 * a URL with a password in the config is refused with the fix; an unknown name lists the known ones; a
 * variable that is not set is named. Against Debian's PostgreSQL 15 on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { selectTarget } from '../../scripts/server/select.ts';
import { isPgstrapError } from '../../scripts/shared/errors.ts';
import { makeProject, runCli, testEnv, type TestProject } from '../support/project.ts';
import { serversMissing, startServer, type RunningServer } from '../support/servers.ts';

const source = { file: '/p/extensions.config.ts', projectDir: '/p' };
function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, source);
    return [];
  } catch (error) {
    return isPgstrapError(error) ? (error.details ?? []) : [String(error)];
  }
}

describe('targets in the config', () => {
  it('accepts a URL by environment variable, and a URL without a password', () => {
    const config = resolveConfig({ targets: { staging: { url: { env: 'STAGING_DATABASE_URL' }, directUrl: 'postgresql://db.internal:5432/app' } } }, source);
    expect(config.targets.staging).toEqual({ name: 'staging', url: { env: 'STAGING_DATABASE_URL' }, directUrl: { value: 'postgresql://db.internal:5432/app' } });
  });

  it('refuses a password in a committed URL, with the fix', () => {
    expect(problems({ targets: { staging: { url: 'postgresql://app:s3cret@db.example/app' } } })).toEqual([
      "targets.staging.url: holds a password, which must not be committed: set STAGING_DATABASE_URL to the URL and write url: { env: 'STAGING_DATABASE_URL' }",
    ]);
    expect(problems({ targets: { prod: { url: { env: 'PROD_URL' }, directUrl: 'postgres://db/app?password=x' } } })).toEqual([
      "targets.prod.directUrl: holds a password, which must not be committed: set PROD_DIRECT_URL to the URL and write directUrl: { env: 'PROD_DIRECT_URL' }",
    ]);
    expect(problems({ engine: 'external', url: 'postgresql://app:s3cret@db.example/app' })).toEqual([
      'url: holds a password, which must not be committed: pass it as PGSTRAP_URL or --url, or name it in targets by an environment variable',
    ]);
  });

  it('names what is wrong in a target', () => {
    expect(problems({ targets: { staging: {} } })).toEqual(["targets.staging.url: is required: { env: 'STAGING_DATABASE_URL' }"]);
    expect(problems({ targets: { staging: { url: { env: 'not a name' }, uri: 'x' } } })).toEqual([
      'targets.staging.uri: unknown key (did you mean "url"?)',
      "targets.staging.url.env: must name an environment variable, e.g. 'STAGING_DATABASE_URL', got \"not a name\"",
    ]);
  });

  it('lists the known targets for an unknown name, and names a variable that is not set', async () => {
    const config = resolveConfig({ targets: { staging: { url: { env: 'STAGING_DATABASE_URL' } }, production: { url: { env: 'PRODUCTION_DATABASE_URL' } } } }, source);
    await expect(selectTarget(config, { target: 'stagin', env: testEnv() })).rejects.toMatchObject({
      code: 'engine.unknown-target',
      message: 'no target "stagin" in /p/extensions.config.ts; targets: staging, production',
    });
    await expect(selectTarget(config, { target: 'staging', env: testEnv(undefined, { STAGING_DATABASE_URL: undefined }) })).rejects.toMatchObject({
      code: 'engine.target-env-missing',
      message: 'target "staging"\'s url is read from the environment variable STAGING_DATABASE_URL, which is not set',
    });
    const target = await selectTarget(config, { target: 'staging', env: testEnv(undefined, { STAGING_DATABASE_URL: 'postgresql://u:pw@db.example:5432/app' }) });
    expect(target).toMatchObject({ kind: 'external', choice: '--target staging, URL from STAGING_DATABASE_URL' });
    await expect(selectTarget(config, { target: 'staging', url: 'postgresql://db.example/app', env: testEnv() })).rejects.toMatchObject({ message: '--url and --target both name a server' });
  });

  it('gives the migrations a direct URL: a target’s directUrl, or --direct-url (PGSTRAP_DIRECT_URL) beside --url', async () => {
    const config = resolveConfig({ targets: { prod: { url: { env: 'PROD_URL' }, directUrl: { env: 'PROD_DIRECT_URL' } } } }, source);
    const env = testEnv(undefined, { PROD_URL: 'postgresql://u:pw@bouncer.example:6432/app', PROD_DIRECT_URL: 'postgresql://u:pw@db.example:5432/app' });
    const prod = await selectTarget(config, { target: 'prod', env });
    expect(prod.kind === 'external' && [prod.url.host, prod.direct?.url.host, prod.direct?.pinned, prod.direct?.databases]).toEqual(['bouncer.example:6432', 'db.example:5432', true, prod.databases]);
    await expect(selectTarget(config, { target: 'prod', env: { ...env, PROD_DIRECT_URL: undefined } })).rejects.toMatchObject({ code: 'engine.target-env-missing', message: expect.stringContaining("target \"prod\"'s directUrl is read from the environment variable PROD_DIRECT_URL") });
    const byUrl = await selectTarget(config, { url: 'postgresql://bouncer.example:6432/app', env: testEnv(undefined, { PGSTRAP_DIRECT_URL: 'postgresql://db.example/app' }) });
    expect(byUrl.kind === 'external' && byUrl.direct?.choice).toBe('PGSTRAP_DIRECT_URL');
    await expect(selectTarget(config, { directUrl: 'postgresql://db.example/app', env: testEnv() })).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('--direct-url is for a server reached by URL') });
  });
});

const missing = serversMissing();

describe.skipIf(missing !== undefined)(`--target on every command${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: RunningServer;
  let project: TestProject;
  const raw = { databases: ['app'], targets: { staging: { url: { env: 'STAGING_DATABASE_URL' } } } };

  beforeAll(async () => {
    server = await startServer();
    project = await makeProject(raw);
    project.writeConfigFile(raw);
  }, 120_000);
  afterAll(async () => {
    await project?.remove();
    await server?.stop();
  });

  const cli = (args: string[], env: Record<string, string | undefined> = { STAGING_DATABASE_URL: server.url() }) => runCli(args, { cwd: project.dir, env });

  it('runs setup, doctor, verify, migrate, migrate:status and env against the URL the variable holds', async () => {
    for (const command of ['setup', 'doctor', 'verify', 'migrate', 'migrate:status']) {
      const result = await cli([command, '--target', 'staging']);
      expect({ command, code: result.exitCode, out: result.exitCode === 0 ? '' : result.stdout + result.stderr }).toEqual({ command, code: 0, out: '' });
      expect(result.stdout + result.stderr).not.toContain(server.password);
    }
    const env = await cli(['env', '--target', 'staging']);
    expect(env.stdout).toContain(`export PGPORT='${server.port}'`);
    expect(env.stdout).toContain("export PGDATABASE='app'");
  }, 240_000);

  it('names the missing variable and the unknown target on the command line', async () => {
    const unset = await cli(['verify', '--target', 'staging'], { STAGING_DATABASE_URL: undefined });
    expect(unset.exitCode).toBe(2);
    expect(unset.stderr).toContain('environment variable STAGING_DATABASE_URL, which is not set');
    const unknown = await cli(['migrate:status', '--target', 'prod']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no target "prod"');
    expect(unknown.stderr).toContain('targets: staging');
    const both = await cli(['verify', '--target', 'staging', '--url', server.url()]);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('--url and --target both name a server');
  }, 120_000);
});
