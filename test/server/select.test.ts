/** Engine choice: external only when asked explicitly; the exported DATABASE_URL never switches it. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { externalDatabases, selectTarget } from '../../scripts/server/select.ts';
import { testEnv } from '../support/project.ts';

const config = resolveConfig({ databases: ['app', 'app_test'] }, { file: undefined, projectDir: process.cwd() });

describe('selectTarget', () => {
  it('ignores DATABASE_URL and PG* variables', async () => {
    const target = await selectTarget(config, { env: testEnv(undefined, { DATABASE_URL: 'postgres://x@remote/db', PGHOST: 'remote' }) });
    expect(target.kind).not.toBe('external');
  });

  it('goes external for --url, PGSTRAP_URL, or engine "external" with a url', async () => {
    expect((await selectTarget(config, { url: 'postgres://u:p@db.example:5432/app', env: testEnv() })).kind).toBe('external');
    expect((await selectTarget(config, { env: testEnv(undefined, { PGSTRAP_URL: 'postgresql://db.example/app' }) })).choice).toBe('PGSTRAP_URL');
    const withUrl = { ...config, engine: 'external' as const, url: 'postgres://db.example/app' };
    expect((await selectTarget(withUrl, { env: testEnv() })).choice).toBe('url in the config');
  });

  it('lets --engine override PGSTRAP_URL', async () => {
    const target = await selectTarget(config, { engine: 'embedded', env: testEnv(undefined, { PGSTRAP_URL: 'postgresql://db.example/app' }) });
    expect(target.kind).toBe('embedded');
  });

  it('needs a url for engine "external" and a postgres one at that', async () => {
    await expect(selectTarget({ ...config, engine: 'external' }, { env: testEnv() })).rejects.toMatchObject({ code: 'engine.url-missing' });
    await expect(selectTarget(config, { url: 'mysql://x/y', env: testEnv() })).rejects.toMatchObject({ code: 'engine.bad-url' });
  });
});

describe('externalDatabases', () => {
  it('manages the one database a URL names, with the matching declaration or the first', () => {
    expect(externalDatabases(new URL('postgres://h/app_test'), config.databases)).toMatchObject({ databases: [{ name: 'app_test' }], mayCreate: false });
    expect(externalDatabases(new URL('postgres://h/prod_app'), config.databases)).toMatchObject({ databases: [{ name: 'prod_app' }], mayCreate: false });
  });

  it('manages every configured database, and may create them, when the URL names none', () => {
    expect(externalDatabases(new URL('postgres://h:5432'), config.databases)).toMatchObject({
      databases: [{ name: 'app' }, { name: 'app_test' }],
      mayCreate: true,
    });
  });
});
