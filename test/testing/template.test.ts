/** The pure side of pgstrap/testing: template keys, clone names, and what the reaper drops. */
import { describe, expect, it } from 'vitest';
import { createDatabaseStatement } from '../../scripts/databases/plan.ts';
import { cloneName, cloneStatement, hostTag, judgeTestDatabase, parseCloneName, templateHash, templateName, type TemplateInputs } from '../../scripts/testing/template.ts';

const inputs: TemplateInputs = {
  database: 'app',
  migrations: [{ path: 'migrations/1_a.sql', checksum: 'abc' }],
  migrationsCommand: undefined,
  seeds: [{ path: 'seeds/1.sql', text: 'INSERT 1' }],
  extensions: [{ name: 'vector', required: false, databases: ['app'], schema: undefined, version: undefined }],
  uuidv7: { fallbackRandom: 'strong', generator: 'fallback' },
  serverVersion: 170010,
};

describe('template key', () => {
  it('changes with migrations, seeds, extensions, uuidv7 config and server version, and only then', () => {
    const base = templateHash(inputs);
    expect(templateHash({ ...inputs })).toBe(base);
    // The database an extension is declared for is the template's own name, not part of its content.
    expect(templateHash({ ...inputs, extensions: [{ ...inputs.extensions[0]!, databases: ['other'] }] })).toBe(base);
    const changed = [
      { ...inputs, migrations: [{ path: 'migrations/1_a.sql', checksum: 'abd' }] },
      { ...inputs, seeds: [{ path: 'seeds/1.sql', text: 'INSERT 2' }] },
      { ...inputs, extensions: [] },
      { ...inputs, uuidv7: { fallbackRandom: 'fast' as const, generator: 'fallback' as const } },
      { ...inputs, serverVersion: 170011 },
      { ...inputs, migrationsCommand: ['npx', 'prisma', 'migrate', 'deploy'] },
    ].map(templateHash);
    expect(new Set([base, ...changed]).size).toBe(7);
    expect(templateName('app', base)).toBe(`pgstrap_template_app_${base}`);
    expect(Buffer.byteLength(templateName('a'.repeat(63), base))).toBeLessThanOrEqual(63);
  });

  it('uses STRATEGY only where the server has it (15+)', () => {
    expect(cloneStatement('c', 't', 'FILE_COPY', 15)).toBe('CREATE DATABASE "c" TEMPLATE "t" STRATEGY FILE_COPY');
    expect(cloneStatement('c', 't', 'WAL_LOG', 14)).toBe('CREATE DATABASE "c" TEMPLATE "t"');
    expect(createDatabaseStatement('a b', { strategy: 'FILE_COPY', serverMajor: 17 })).toBe('CREATE DATABASE "a b" STRATEGY FILE_COPY');
    expect(createDatabaseStatement('app')).toBe('CREATE DATABASE "app"');
  });
});

describe('reaper verdicts', () => {
  const host = hostTag('box');
  const facts = { host, isAlive: (pid: number) => pid === 100, all: false, currentTemplates: ['pgstrap_template_app_aaaaaaaaaaaa'] };
  it('reads the creator back from a clone name', () => {
    expect(parseCloneName(cloneName(host, 4242, 7, 'a1b2c3'))).toEqual({ host, pid: 4242 });
    expect(parseCloneName('pgstrap_test_myown')).toBeUndefined();
  });
  it('drops clones of this host whose process is gone, stale templates and half builds; keeps the rest', () => {
    const judge = (name: string, comment: string | null = null, all = false) => judgeTestDatabase({ name, comment }, { ...facts, all });
    expect(judge(cloneName(host, 100, 1, 'x'))).toBe('keep-alive');
    expect(judge(cloneName(host, 101, 1, 'x'))).toBe('drop');
    expect(judge(cloneName(hostTag('other'), 101, 1, 'x'))).toBe('keep-other-host');
    expect(judge(cloneName(host, 101, 1, 'x'), 'pgstrap kept 2026-01-01')).toBe('keep-kept');
    expect(judge(cloneName(host, 100, 1, 'x'), 'pgstrap kept 2026-01-01', true)).toBe('drop');
    expect(judge('pgstrap_template_app_aaaaaaaaaaaa')).toBe('keep-current');
    expect(judge('pgstrap_template_app_bbbbbbbbbbbb')).toBe('drop');
    expect(judge('pgstrap_template_app_aaaaaaaaaaaa_build')).toBe('drop');
    expect(judge('pgstrap_template_app_aaaaaaaaaaaa', null, true)).toBe('drop');
  });
});

describe('clone strategy', () => {
  it('is WAL_LOG where fsync is on, FILE_COPY on the throwaway test cluster (bench/test-databases.ts)', async () => {
    const { defaultCloneStrategy } = await import('../../scripts/testing/template.ts');
    expect(defaultCloneStrategy(false)).toBe('WAL_LOG');
    expect(defaultCloneStrategy(true)).toBe('FILE_COPY');
  });
});
