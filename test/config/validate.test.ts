import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPortFor } from '../../scripts/config/default-port.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { isPgstrapError, type PgstrapError } from '../../scripts/shared/errors.ts';

const source = { file: '/project/extensions.config.ts', projectDir: '/project' };

function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, source);
  } catch (error) {
    expect(isPgstrapError(error)).toBe(true);
    const e = error as PgstrapError;
    expect(e.code).toBe('config.invalid');
    expect(e.message).toContain('/project/extensions.config.ts');
    return e.details;
  }
  throw new Error('expected the config to be refused');
}

describe('resolveConfig', () => {
  it('applies a default to every key', () => {
    const config = resolveConfig(undefined, source);
    expect(config).toMatchObject({
      postgresMajor: 17,
      engine: 'auto',
      port: defaultPortFor('/project'),
      portSource: 'project-folder',
      superuser: 'postgres',
      stateDir: '/project/.pgstrap',
      databases: [{ name: 'app' }],
      extensions: [],
      settings: {},
      uuidv7: { fallbackRandom: 'strong', generator: 'fallback' },
    });
    expect(config.migrations.directory).toBe(path.join('/project', 'migrations'));
  });

  it('derives the default port from the project folder, so two projects do not collide; a configured port wins', () => {
    const a = resolveConfig({}, { file: undefined, projectDir: '/work/shop' });
    const b = resolveConfig({}, { file: undefined, projectDir: '/work/blog' });
    expect(a.port).not.toBe(b.port);
    expect(resolveConfig({ postgresMajor: 18 }, { file: undefined, projectDir: '/work/shop' }).port).toBe(a.port);
    for (const port of [a.port, b.port]) expect(port).toBeGreaterThanOrEqual(25000), expect(port).toBeLessThan(26000);
    expect(resolveConfig({ port: 6000 }, source)).toMatchObject({ port: 6000, portSource: 'config' });
  });

  it('expands bare extension names to required extensions in every database', () => {
    const config = resolveConfig({ databases: ['a', 'b'], extensions: ['vector', { name: 'pgmq', required: false, databases: ['b'] }] }, source);
    expect(config.extensions).toEqual([
      { name: 'vector', required: true, databases: ['a', 'b'], schema: undefined, version: undefined },
      { name: 'pgmq', required: false, databases: ['b'], schema: undefined, version: undefined },
    ]);
  });

  it('reports every problem at once, each naming its key', () => {
    const list = problems({
      databse: ['x'],
      port: 70000,
      databases: ['ok', 'bad-name', 'ok', 'x'.repeat(64)],
      extensions: [{ name: 'vector', databases: ['nope'] }, 42],
      settings: { port: 5 },
    });
    expect(list).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^databse: unknown key/),
        expect.stringMatching(/^port: must be a whole number from 1 to 65535/),
        expect.stringMatching(/^databases\[1\]: "bad-name" is not a valid identifier/),
        expect.stringMatching(/^databases\[2\]: "ok" is listed twice/),
        expect.stringMatching(/^databases\[3\]: .* is 64 bytes; PostgreSQL allows at most 63/),
        expect.stringMatching(/^extensions\[0\]\.databases: "nope" is not one of the configured databases/),
        expect.stringMatching(/^extensions\[1\]: must be a name/),
        expect.stringMatching(/^settings\.port: is managed by pgstrap; set port instead/),
      ]),
    );
    expect(list).toHaveLength(8);
  });

  it('suggests the right spelling of a mistyped key', () => {
    expect(problems({ Port: 5 })[0]).toContain('did you mean "port"?');
  });

  it("takes uuidv7.fallbackRandom 'fast' or 'strong', and names the key when it is anything else", () => {
    expect(resolveConfig({ uuidv7: { fallbackRandom: 'fast' } }, source).uuidv7).toEqual({ fallbackRandom: 'fast', generator: 'fallback' });
    expect(problems({ uuidv7: { fallbackRandom: 'crypto' } })).toEqual([`uuidv7.fallbackRandom: must be one of 'fast', 'strong', got "crypto"`]);
    expect(problems({ uuidv7: { fallbackRandon: 'strong' } })).toEqual(['uuidv7.fallbackRandon: unknown key (did you mean "fallbackRandom"?)']);
    expect(problems({ uuidv7: 'strong' })).toEqual([`uuidv7: must be an object like { fallbackRandom: 'strong' }, got "strong"`]);
  });

  it("takes uuidv7.generator 'fallback' or 'pg_uuidv7', and names the key when it is anything else", () => {
    expect(resolveConfig({ uuidv7: { generator: 'pg_uuidv7' } }, source).uuidv7).toEqual({ fallbackRandom: 'strong', generator: 'pg_uuidv7' });
    expect(problems({ uuidv7: { generator: 'native' } })).toEqual([`uuidv7.generator: must be one of 'fallback', 'pg_uuidv7', got "native"`]);
    expect(problems({ uuidv7: { generator: 'pg_uuidv7', fallbackRandom: 1 } })).toEqual([`uuidv7.fallbackRandom: must be one of 'fast', 'strong', got number 1`]);
    expect(problems({ uuidv7: { generater: 'pg_uuidv7' } })).toEqual(['uuidv7.generater: unknown key (did you mean "generator"?)']);
  });

  it('counts identifier length in bytes, not characters', () => {
    // 32 two-byte characters: 64 bytes.
    expect(problems({ databases: ['é'.repeat(32)] })[0]).toContain('64 bytes');
  });

  it('refuses a url without the external engine, and a url that is not postgres', () => {
    expect(problems({ url: 'mysql://x' })).toEqual([
      'url: must start with postgres:// or postgresql://',
      'url: is only used by engine: "external"; set engine too, or pass --url',
    ]);
  });

  it('turns settings into postgresql.conf strings', () => {
    expect(resolveConfig({ settings: { shared_buffers: '256MB', jit: false, max_connections: 50 } }, source).settings).toEqual({
      shared_buffers: '256MB',
      jit: 'off',
      max_connections: '50',
    });
  });

  it('splits a migration command string for sh -c and resolves directories against the config file', () => {
    const config = resolveConfig({ migrations: { directory: 'db/migrations', command: 'mix ecto.migrate' } }, source);
    expect(config.migrations).toEqual({ directory: '/project/db/migrations', directoryKey: 'migrations.directory', builtIn: true, command: ['sh', '-c', 'mix ecto.migrate'] });
    // The key that named a folder goes with it, so a missing one is an error naming that key.
    const perDatabase = resolveConfig({ databases: ['app', { name: 'shop', migrations: { directory: 'shop_db' } }] }, source);
    expect(perDatabase.databases.map((d) => d.migrations.directoryKey)).toEqual([undefined, 'databases[1].migrations.directory']);
  });
});
