/** uuidv7 strategy choice, the plan per database, the SQL text and verify's verdicts: pure, no server. */
import { DEFAULT_FALLBACK_RANDOM, type FallbackRandom, DEFAULT_UUIDV7_GENERATOR, type Uuidv7Generator } from '../../scripts/config/types.ts';
import { describe, expect, it } from 'vitest';
import { judgeBatch, QUICK_VERIFY_BATCH, VERIFY_BATCH, verifyBatchSize, type BatchResult } from '../../scripts/uuidv7/checks.ts';
import {
  extractTimestampBody,
  fallbackBody,
  fallbackRandomOf,
  installFallbackSql,
  MANAGED_MARKER,
  NATIVE_WRAPPER_BODY,
  wrapperBody,
} from '../../scripts/uuidv7/sql.ts';
import { chooseStrategy, planUuidv7, promisesOrder, type Uuidv7State } from '../../scripts/uuidv7/strategy.ts';

const managed = (source: string, dependents = 0) => ({ source, comment: `... (${MANAGED_MARKER}).`, dependents });
const extract = managed(extractTimestampBody());
/** The config's uuidv7 key; pg_uuidv7 where installed unless said otherwise. */
const choice = (fallbackRandom: FallbackRandom, generator: Uuidv7Generator = 'pg_uuidv7') => ({ fallbackRandom, generator });

function state(fields: Partial<Uuidv7State>): Uuidv7State {
  return { serverVersionNum: 170005, pgUuidv7Schema: undefined, uuidv7: undefined, extract: undefined, recorded: undefined, ...fields };
}

describe('uuidv7 strategy', () => {
  it('is native from 18, the extension where installed, else the fallback', () => {
    expect(chooseStrategy(180004, 'public')).toBe('native');
    expect(chooseStrategy(170005, 'public', 'pg_uuidv7')).toBe('pg_uuidv7');
    expect(chooseStrategy(170005, 'public', 'fallback')).toBe('fallback');
    expect(chooseStrategy(170005, 'public')).toBe(DEFAULT_UUIDV7_GENERATOR);
    expect(chooseStrategy(180004, 'public', 'fallback')).toBe('native');
    expect(chooseStrategy(130000, undefined, 'pg_uuidv7')).toBe('fallback');
    expect(promisesOrder('pg_uuidv7')).toBe(false);
    expect(promisesOrder('fallback')).toBe(true);
  });

  it('installs the fallback and records it, then has nothing to do', () => {
    const first = planUuidv7(state({}), choice('fast'));
    expect(first.strategy).toBe('fallback');
    expect(first.record).toBe(true);
    expect(first.statements.join('\n')).toContain('CREATE OR REPLACE FUNCTION "public".uuidv7()');
    expect(first.changes).toEqual([expect.stringContaining('SQL fallback'), 'recorded strategy fallback']);
    expect(first.changes[0]).toMatch(/random bits from random\(\)$/);
    expect(first.description).toBe('fallback (random bits from random())');
    const second = planUuidv7(state({ uuidv7: managed(fallbackBody('fast')), extract, recorded: 'fallback' }), choice('fast'));
    expect(second).toMatchObject({ statements: [], changes: [], record: false });
  });

  it('switches the fallback to a pg_uuidv7 wrapper once the extension is there', () => {
    const plan = planUuidv7(state({ pgUuidv7Schema: 'ext', uuidv7: managed(fallbackBody('fast')), extract, recorded: 'fallback' }), choice('fast'));
    expect(plan.statements.join('\n')).toContain('SELECT "ext".uuid_generate_v7()');
    expect(plan.changes).toEqual(["replaced public.uuidv7(): it now calls pg_uuidv7's uuid_generate_v7()", 'recorded strategy pg_uuidv7 (was fallback)']);
    const upgraded = planUuidv7(state({ uuidv7: managed('SELECT an_older_body()'), extract, recorded: 'fallback' }), choice('fast'));
    expect(upgraded.changes).toEqual(["replaced public.uuidv7(), pgstrap's SQL fallback (no pg_uuidv7, PostgreSQL before 18), random bits from random()"]);
    expect(planUuidv7(state({ pgUuidv7Schema: 'ext', uuidv7: managed(wrapperBody('ext')), extract, recorded: 'pg_uuidv7' }), choice('fast')).statements).toEqual([]);
  });

  it("defaults to the strong fallback and, where pg_uuidv7 is installed, to the in-order fallback", () => {
    expect(DEFAULT_FALLBACK_RANDOM).toBe('strong');
    expect(DEFAULT_UUIDV7_GENERATOR).toBe('fallback');
    const wrapper = state({ pgUuidv7Schema: 'ext', uuidv7: managed(wrapperBody('ext')), extract, recorded: 'pg_uuidv7' });
    const toFallback = planUuidv7(wrapper, choice('strong', 'fallback'));
    expect(toFallback.strategy).toBe('fallback');
    expect(toFallback.changes).toEqual([
      "replaced public.uuidv7(), pgstrap's SQL fallback (uuidv7.generator: 'fallback', in order, though pg_uuidv7 is installed), random bits from gen_random_uuid()",
      'recorded strategy fallback (was pg_uuidv7)',
    ]);
    const there = state({ pgUuidv7Schema: 'ext', uuidv7: managed(fallbackBody('strong')), extract, recorded: 'fallback' });
    expect(planUuidv7(there, choice('strong', 'fallback')).statements).toEqual([]);
    expect(planUuidv7(there, choice('strong', 'pg_uuidv7')).changes).toEqual([
      "replaced public.uuidv7(): it now calls pg_uuidv7's uuid_generate_v7()",
      'recorded strategy pg_uuidv7 (was fallback)',
    ]);
  });

  it('replaces the fallback when uuidv7.fallbackRandom changes, then has nothing to do', () => {
    const fast = state({ uuidv7: managed(fallbackBody('fast')), extract, recorded: 'fallback' });
    const toStrong = planUuidv7(fast, choice('strong'));
    expect(toStrong.statements.join('\n')).toContain('pg_catalog.gen_random_uuid()');
    expect(toStrong.changes).toEqual(["replaced public.uuidv7(): the SQL fallback now takes its random bits from gen_random_uuid() (uuidv7.fallbackRandom: 'strong', was 'fast')"]);
    expect(toStrong.description).toBe('fallback (random bits from gen_random_uuid())');
    expect(planUuidv7(state({ uuidv7: managed(fallbackBody('strong')), extract, recorded: 'fallback' }), choice('strong')).statements).toEqual([]);
    expect(planUuidv7(fast, choice('fast')).statements).toEqual([]);
  });

  it('leaves no shadowing copy on 18: drops the wrapper, or makes it call the native one when defaults name it', () => {
    const dropped = planUuidv7(state({ serverVersionNum: 180000, uuidv7: managed(fallbackBody('fast')), extract, recorded: 'fallback' }), choice('fast'));
    expect(dropped.statements).toContain('DROP FUNCTION IF EXISTS "public".uuidv7();');
    const kept = planUuidv7(state({ serverVersionNum: 180000, uuidv7: managed(fallbackBody('fast'), 2), extract, recorded: 'fallback' }), choice('fast'));
    expect(kept.statements.join('\n')).toContain(NATIVE_WRAPPER_BODY);
    expect(kept.changes[0]).toMatch(/calls the native uuidv7\(\) \(2 column defaults name it/);
    const native = planUuidv7(state({ serverVersionNum: 180000, uuidv7: managed(NATIVE_WRAPPER_BODY, 2), extract, recorded: 'native' }), choice('fast'));
    expect(native.statements).toEqual([]);
  });

  it('never replaces a uuidv7() pgstrap did not create', () => {
    const plan = planUuidv7(state({ uuidv7: { source: 'SELECT gen_random_uuid()', comment: undefined, dependents: 0 } }), choice('fast'));
    expect(plan.statements.join('\n')).not.toContain('uuidv7()');
    expect(plan.record).toBe(false);
    expect(plan.notes[0]).toMatch(/was not created by pgstrap: left as it is/);
  });
});

describe('SQL text', () => {
  it('creates the fallback and the timestamp reader in the schema given, quoted', () => {
    const sql = installFallbackSql('my "schema"', 'fast');
    expect(sql).toContain('CREATE OR REPLACE FUNCTION "my ""schema""".uuidv7() RETURNS uuid');
    expect(sql).toContain('CREATE OR REPLACE FUNCTION "my ""schema""".uuidv7_extract_timestamp(id uuid) RETURNS timestamptz');
    // One SQL expression, so the planner inlines it; no PL/pgSQL.
    expect(sql).not.toMatch(/plpgsql/i);
    expect(sql).toContain("SQL fallback, random bits from random() (managed by pgstrap)");
  });

  it('tells the two fallbacks apart by their body, and nothing else for one', () => {
    expect(fallbackRandomOf(fallbackBody('fast'))).toBe('fast');
    expect(fallbackRandomOf(`\n${fallbackBody('strong')}\n`)).toBe('strong');
    expect(fallbackRandomOf('SELECT gen_random_uuid()')).toBeUndefined();
    // Only the random half differs: the clock, the setting and the layout are shared.
    const [fast, strong] = [fallbackBody('fast').split('\n'), fallbackBody('strong').split('\n')];
    expect(fast.slice(0, -1)).toEqual(strong.slice(0, -1));
    expect(fast.at(-1)).toContain('pg_catalog.random()');
    expect(fast.at(-1)).not.toContain('gen_random_uuid');
  });
});

describe('verify verdicts', () => {
  const good: BatchResult = { total: 10000, distinct: 10000, wrongVersion: 0, wrongVariant: 0, offClock: 0, outOfOrder: 0, maxSkewSeconds: 0.02 };

  it('passes a good batch and states its facts', () => {
    const verdict = judgeBatch(good, 10000, true);
    expect(verdict.failures).toEqual([]);
    expect(verdict.facts.join('; ')).toMatch(/10000 ids: version 7, RFC variant, unique.*in order \(0 of 9999/);
  });

  it('reports disorder as a fact where order is not promised, and fails it where it is', () => {
    const shuffled = { ...good, outOfOrder: 4990 };
    expect(judgeBatch(shuffled, 10000, false)).toMatchObject({ failures: [], facts: [expect.any(String), expect.stringContaining('4990 of 9999 consecutive pairs out of order; expected')] });
    expect(judgeBatch(shuffled, 10000, true).failures).toEqual([expect.stringContaining('promises order')]);
  });

  it('fails duplicates, wrong version or variant, and timestamps off the clock', () => {
    const bad = { ...good, distinct: 9999, wrongVersion: 3, wrongVariant: 1, offClock: 2 };
    expect(judgeBatch(bad, 10000, true).failures).toHaveLength(4);
  });
});

describe('verify batch', () => {
  it('draws the full batch after a change or alone, fewer ids when the run changed nothing', () => {
    expect(verifyBatchSize(false)).toBe(VERIFY_BATCH);
    expect(verifyBatchSize(true)).toBe(QUICK_VERIFY_BATCH);
    expect(QUICK_VERIFY_BATCH).toBeLessThan(VERIFY_BATCH);
  });
});
