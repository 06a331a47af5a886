/** Seeds without a server: the config key and its per-database override, name order, and files a transaction cannot hold. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { orderSeedFiles, parseSeed, seedsOf } from '../../scripts/seeds/source.ts';
import { PgstrapError } from '../../scripts/shared/errors.ts';

const source = { file: '/p/extensions.config.ts', projectDir: '/p' };

describe('seeds config', () => {
  it('defaults to seeds/, takes a top-level folder and a per-database one', () => {
    const plain = resolveConfig({}, source);
    expect(seedsOf(plain.databases[0]!, plain)).toEqual({ directory: path.join('/p', 'seeds') });
    const config = resolveConfig({ seeds: { directory: 'db/seeds' }, databases: ['app', { name: 'other', seeds: { directory: 'other-seeds' } }] }, source);
    expect(seedsOf(config.databases[0]!, config)).toEqual({ directory: '/p/db/seeds', directoryKey: 'seeds.directory' });
    expect(seedsOf(config.databases[1]!, config)).toEqual({ directory: '/p/other-seeds', directoryKey: 'databases[1].seeds.directory' });
  });

  it('names the key of a bad value', () => {
    const bad = (() => {
      try {
        resolveConfig({ seeds: 'seeds', databases: [{ name: 'app', seeds: { dir: 'x' } }] }, source);
      } catch (error) {
        return error as PgstrapError;
      }
      throw new Error('accepted');
    })();
    expect(bad.details).toEqual([`seeds: must be an object like { directory: 'seeds' }, got "seeds"`, 'databases[0].seeds.dir: unknown key; allowed: directory']);
  });
});

describe('seed files', () => {
  it('run in byte order of their names; only .sql files', () => {
    expect(orderSeedFiles(['10_b.sql', '002_a.sql', 'README.md', 'Z.sql', '001_z.sql'])).toEqual(['001_z.sql', '002_a.sql', '10_b.sql', 'Z.sql']);
  });

  it('refuse their own transaction control and COPY FROM stdin, naming the line', () => {
    expect(() => parseSeed('seeds/1.sql', '1.sql', 'INSERT INTO t VALUES (1);\nCOMMIT;\n')).toThrow(/^seeds\/1\.sql:2:1: "COMMIT;" controls the transaction/);
    expect(() => parseSeed('seeds/2.sql', '2.sql', 'COPY t FROM stdin;\n1\n\\.\n')).toThrow(/seeds\/2\.sql:1:1: COPY \.\.\. FROM stdin/);
    const ok = parseSeed('seeds/3.sql', '3.sql', 'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\nINSERT INTO t VALUES (1);\r\n');
    expect(ok.statements).toHaveLength(2);
  });
});
