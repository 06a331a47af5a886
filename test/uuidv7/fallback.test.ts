/**
 * The SQL fallback on servers without pg_uuidv7 before 18: embedded PostgreSQL 17 and Debian's
 * postgresql-15. Order within a session is measured, not assumed: in one statement (the clock often
 * does not move between ids), across statements and transactions, and as a primary-key default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../scripts/server/connection.ts';
import { readUuidv7Strategy } from '../../scripts/uuidv7/read.ts';
import { FALLBACK_CLOCK_SETTING, FAST_RANDOM_CAVEAT } from '../../scripts/uuidv7/sql.ts';
import { connectionFor, readPassword, type ExternalTarget, type ManagedTarget } from '../../scripts/server/target.ts';
import { databasesStep } from '../../scripts/databases/step.ts';
import { initialiseStep, settingsStep, startStep } from '../../scripts/cluster/step.ts';
import { extensionsCheckStep, extensionsStep } from '../../scripts/extensions/step.ts';
import { uuidv7Step } from '../../scripts/uuidv7/step.ts';
import { verifyStep } from '../../scripts/uuidv7/verify-step.ts';
import { debianPostgres, makeProject, managedTarget, runStepsQuietly, type TestProject } from '../support/project.ts';

const STEPS = [extensionsCheckStep, initialiseStep, settingsStep, startStep, databasesStep, extensionsStep, uuidv7Step, verifyStep];
const debian = await debianPostgres(15);

/** Consecutive pairs out of order among ids drawn in one statement, and pairs inside the same millisecond. */
const ORDER_SQL = `
WITH g AS (SELECT n, uuidv7() AS id FROM generate_series(1, 100000) AS n),
s AS (SELECT id, lag(id) OVER (ORDER BY n) AS prev FROM g)
SELECT count(*) FILTER (WHERE id <= prev)::int AS out_of_order,
       count(*) FILTER (WHERE left(id::text, 13) = left(prev::text, 13))::int AS same_ms,
       count(DISTINCT id)::int AS distinct_ids,
       count(*) FILTER (WHERE substr(id::text, 15, 1) <> '7' OR substr(id::text, 20, 1) NOT IN ('8', '9', 'a', 'b'))::int AS not_v7
FROM s`;

const right17 = (id: string) => id.slice(-17);

/** The config with the opt-in 'fast' fallback. */
const fast = (config: TestProject['config']): TestProject['config'] => ({ ...config, uuidv7: { ...config.uuidv7, fallbackRandom: 'fast' } });

function suite(name: string, raw: Parameters<typeof makeProject>[0], env: Record<string, string> = {}) {
  describe(name, () => {
    let project: TestProject;
    let target: ManagedTarget;

    beforeAll(async () => {
      project = await makeProject({ databases: ['app'], extensions: [{ name: 'pg_uuidv7', required: false }, 'pgcrypto'], ...raw });
      target = await managedTarget(project, { env: { ...process.env, ...env } });
    });
    afterAll(async () => project?.remove());

    it('installs the fallback where pg_uuidv7 is missing, records it, and verifies it', async () => {
      const reports = await runStepsQuietly(STEPS, project.config, target);
      const byId = Object.fromEntries(reports.map((r) => [r.id, r]));
      expect(byId.extensions!.notes[0]).toMatch(/^optional extension pg_uuidv7 skipped in app: .*To get it: .*postgresql_\d+\.pkgs\.pg_uuidv7/);
      // The default: gen_random_uuid()'s random bits.
      expect(byId.uuidv7!.changes).toEqual(["app: created public.uuidv7(), pgstrap's SQL fallback (no pg_uuidv7, PostgreSQL before 18), random bits from gen_random_uuid()", 'app: recorded strategy fallback']);
      expect(byId.verify!.notes).toEqual([expect.stringMatching(/^app: uuidv7\(\) strategy fallback \(random bits from gen_random_uuid\(\)\); 10000 ids: .*in order \(0 of 9999 consecutive pairs out of order\)/)]);
      expect(await withClient(connectionFor(target, 'app'), readUuidv7Strategy)).toBe('fallback');
      const again = await runStepsQuietly(STEPS, project.config, target);
      expect(again.flatMap((r) => r.changes)).toEqual([]);
      // Nothing changed, so verify proves the same things on fewer ids.
      expect(again.at(-1)!.notes).toEqual([expect.stringMatching(/^app: uuidv7\(\) strategy fallback \(random bits from gen_random_uuid\(\)\); 100 ids: .*in order \(0 of 99 consecutive pairs out of order\); DEFAULT uuidv7\(\)/)]);
    });

    it('keeps ids in order within a session, even when the clock does not move', async () => {
      await withClient(connectionFor(target, 'app'), async (c) => {
        const { rows } = await c.query(ORDER_SQL);
        expect(rows[0]).toMatchObject({ out_of_order: 0, distinct_ids: 100000, not_v7: 0 });
        // Most pairs share their millisecond: there, the seed's web-copied function had half of them out of order.
        expect(rows[0].same_ms).toBeGreaterThan(50000);
        // A clock that does not move: with the session's last id ten seconds ahead of the clock, every id
        // comes from last + 1 (the path every id after the first in a millisecond takes), and the 12-bit
        // counter carries into the millisecond twice in 10,000 ids: order still holds.
        await c.query("SELECT set_config($1, ((floor((date_part('epoch', clock_timestamp()) + 10) * 1000)::bigint << 16) | 61440)::text, false)", [FALLBACK_CLOCK_SETTING]);
        const { rows: frozen } = await c.query(ORDER_SQL.replace('100000', '10000'));
        expect(frozen[0]).toMatchObject({ out_of_order: 0, distinct_ids: 10000, not_v7: 0 });
        // 10,000 ids at 4,096 a millisecond moved the session's clock on by 3 ms, no more (the ten seconds it
        // was set ahead by, less the time the ids took).
        const { rows: ahead } = await c.query('SELECT extract(epoch FROM uuidv7_extract_timestamp(uuidv7()) - clock_timestamp())::float8 AS lead');
        expect(ahead[0].lead).toBeGreaterThan(5);
        expect(ahead[0].lead).toBeLessThan(10.004);
        expect(frozen[0].same_ms).toBeGreaterThan(9000);
        const ids: string[] = [];
        for (let i = 0; i < 200; i++) {
          // Separate statements and transactions in the same session.
          const result: unknown = await c.query(i % 2 ? 'SELECT uuidv7() AS id' : 'BEGIN; SELECT uuidv7() AS id; COMMIT;');
          const select = (Array.isArray(result) ? result[1] : result) as { rows: Array<{ id: string }> };
          ids.push(select.rows[0]!.id);
        }
        expect([...ids].sort()).toEqual(ids);
        await c.query('CREATE TEMP TABLE t (id uuid PRIMARY KEY DEFAULT uuidv7(), n int)');
        await c.query('INSERT INTO t (n) SELECT generate_series(1, 20000)');
        const { rows: inserted } = await c.query('SELECT count(*) FILTER (WHERE id <= prev)::int AS out_of_order FROM (SELECT id, lag(id) OVER (ORDER BY n) AS prev FROM t) s');
        expect(inserted[0].out_of_order).toBe(0);
      });
    });

    it("'fast': draws different ids in two sessions that setseed() seeded alike", async () => {
      await runStepsQuietly([uuidv7Step], fast(project.config), target);
      // random() repeats after setseed(); the fallback XORs in the backend pid, so sessions still differ.
      const halves = (db: string) =>
        withClient(connectionFor(target, db), async (c) => {
          await c.query('SELECT setseed(0.5)');
          return (await c.query('SELECT array_agg(right(uuidv7()::text, 17)) AS h FROM generate_series(1, 1000)')).rows[0].h as string[];
        });
      const [a, b] = await Promise.all([halves('app'), halves('app')]);
      expect(new Set(a).size).toBe(1000);
      expect(a!.filter((h) => new Set(b).has(h))).toEqual([]);
      // In one session the seed repeats the random() draws, yet the clock keeps the ids apart.
      await withClient(connectionFor(target, 'app'), async (c) => {
        const { rows } = await c.query("SELECT setseed(0.5), uuidv7()::text AS a UNION ALL SELECT setseed(0.5), uuidv7()::text");
        expect(rows[0].a).not.toBe(rows[1].a);
        expect(right17(rows[0].a)).toBe(right17(rows[1].a));
      });
    });

    it("moves a database with the 'fast' fallback to the strong one on the next setup, saying so, keeping order", async () => {
      // The state of a database set up before 'strong' became the default: the fast fallback (set above).
      const [toStrong, verify] = await runStepsQuietly([uuidv7Step, verifyStep], project.config, target);
      expect(toStrong!.changes).toEqual(["app: replaced public.uuidv7(): the SQL fallback now takes its random bits from gen_random_uuid() (uuidv7.fallbackRandom: 'strong', was 'fast')"]);
      expect(verify!.notes).toEqual([expect.stringMatching(/^app: uuidv7\(\) strategy fallback \(random bits from gen_random_uuid\(\)\); 10000 ids: .*in order \(0 of 9999/)]);
      await withClient(connectionFor(target, 'app'), async (c) => {
        expect((await c.query("SELECT prosrc FROM pg_proc WHERE oid = 'public.uuidv7()'::regprocedure")).rows[0].prosrc).toContain('gen_random_uuid()');
        expect((await c.query(ORDER_SQL)).rows[0]).toMatchObject({ out_of_order: 0, distinct_ids: 100000, not_v7: 0 });
      });
      expect((await runStepsQuietly([uuidv7Step], project.config, target)).flatMap((r) => r.changes)).toEqual([]);
      const [back] = await runStepsQuietly([uuidv7Step], fast(project.config), target);
      expect(back!.changes).toEqual(["app: replaced public.uuidv7(): the SQL fallback now takes its random bits from random() (uuidv7.fallbackRandom: 'fast', was 'strong')"]);
      await runStepsQuietly([uuidv7Step], project.config, target);
    });

    it("says on a server reached by URL that 'fast' ids are not unguessable, and not with 'strong'", async () => {
      const external = (config: typeof project.config): ExternalTarget => ({
        kind: 'external',
        url: new URL(`postgresql://postgres:${encodeURIComponent(readPassword(target.layout)!)}@127.0.0.1:${project.config.port}/app`),
        config,
        databases: config.databases,
        mayCreateDatabases: false,
        choice: '--url',
      });
      const [withFast] = await runStepsQuietly([uuidv7Step], fast(project.config), external(fast(project.config)));
      expect(withFast!.changes).toEqual([expect.stringMatching(/^app: replaced public.uuidv7\(\): .*'fast', was 'strong'/)]);
      expect(withFast!.notes).toEqual([FAST_RANDOM_CAVEAT]);
      const [again] = await runStepsQuietly([uuidv7Step], fast(project.config), external(fast(project.config)));
      expect(again!.notes).toEqual([expect.stringMatching(/^app: uuidv7\(\) strategy fallback \(random bits from random\(\)\)$/), FAST_RANDOM_CAVEAT]);
      const [strong] = await runStepsQuietly([uuidv7Step], project.config, external(project.config));
      expect(strong!.notes).toEqual([]);
    });

    it('works for a role that is not a superuser, and reads its timestamps', async () => {
      await withClient(connectionFor(target, 'app'), async (c) => {
        await c.query('CREATE ROLE pgstrap_app_user NOLOGIN');
        await c.query('SET ROLE pgstrap_app_user');
        // uuid_extract_timestamp() exists from 17, where it reads only v1.
        const v1only = target.binaries.major >= 17 ? 'uuid_extract_timestamp(u)' : 'NULL::timestamptz';
        const { rows } = await c.query(`SELECT uuidv7_extract_timestamp(u) AS ts, now() AS now, ${v1only} AS v1only FROM (SELECT uuidv7() AS u) s`);
        await c.query('RESET ROLE');
        await c.query('DROP ROLE pgstrap_app_user');
        expect(Math.abs(rows[0].ts.getTime() - rows[0].now.getTime())).toBeLessThan(1000);
        expect(rows[0].v1only).toBeNull();
      });
    });

    it("leaves a team's own uuidv7() alone, and reports its disorder as a fact", async () => {
      // The kind of function the seed documents copied from the web: v7 layout, random inside the millisecond.
      await withClient(connectionFor(target, 'app'), async (c) => {
        await c.query('DROP FUNCTION public.uuidv7(); DELETE FROM pgstrap.uuidv7_strategy');
        await c.query(`CREATE FUNCTION public.uuidv7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
          SELECT (lpad(to_hex(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')
            || '7' || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid $$`);
      });
      const [uuidv7, verify] = await runStepsQuietly([uuidv7Step, verifyStep], project.config, target);
      expect(uuidv7!.changes).toEqual([]);
      expect(uuidv7!.notes).toEqual([expect.stringMatching(/^app: public\.uuidv7\(\) exists and was not created by pgstrap: left as it is/)]);
      expect(verify!.notes[0]).toMatch(/^app: uuidv7\(\) strategy not recorded .*[1-9]\d* of 99 consecutive pairs out of order; expected/);
      expect(verify!.notes[1]).toMatch(/^app: SQL fallback, random bits from gen_random_uuid\(\) \(installed in a rolled-back transaction\): passes the same checks/);
      expect(await withClient(connectionFor(target, 'app'), readUuidv7Strategy)).toBeUndefined();
    });
  });
}

suite('embedded PostgreSQL 17: the SQL fallback', { engine: 'embedded' });

if ('skip' in debian) {
  describe.skip(`Debian PostgreSQL 15: the SQL fallback (${debian.skip})`, () => {
    it('skipped', () => {});
  });
} else {
  suite('Debian PostgreSQL 15: the SQL fallback', { engine: 'system', postgresMajor: 15 }, { PG_BIN: debian.binDir });
}
