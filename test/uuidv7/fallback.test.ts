/**
 * The SQL fallback on servers without pg_uuidv7 before 18: embedded PostgreSQL 17 and Debian's
 * postgresql-15. Order within a session is measured, not assumed: in one statement (the clock often
 * does not move between ids), across statements and transactions, and as a primary-key default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../scripts/db/client.ts';
import { readUuidv7Strategy } from '../../scripts/db/uuidv7.ts';
import { connectionFor, type ManagedTarget } from '../../scripts/engines/target.ts';
import { databasesStep } from '../../scripts/steps/databases.ts';
import { initialiseStep, settingsStep, startStep } from '../../scripts/steps/cluster.ts';
import { extensionsCheckStep, extensionsStep } from '../../scripts/steps/extensions.ts';
import { uuidv7Step } from '../../scripts/steps/uuidv7.ts';
import { verifyStep } from '../../scripts/steps/verify.ts';
import { debianPostgres, makeProject, managedTarget, runStepsQuietly, type TestProject } from '../support/project.ts';

const STEPS = [extensionsCheckStep, initialiseStep, settingsStep, startStep, databasesStep, extensionsStep, uuidv7Step, verifyStep];
const debian = await debianPostgres(15);

/** Consecutive pairs out of order among ids drawn in one statement, and pairs inside the same millisecond. */
const ORDER_SQL = `
WITH g AS (SELECT n, uuidv7() AS id FROM generate_series(1, 100000) AS n),
s AS (SELECT id, lag(id) OVER (ORDER BY n) AS prev FROM g)
SELECT count(*) FILTER (WHERE id <= prev)::int AS out_of_order,
       count(*) FILTER (WHERE left(id::text, 13) = left(prev::text, 13))::int AS same_ms,
       count(DISTINCT id)::int AS distinct_ids
FROM s`;

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
      expect(byId.uuidv7!.changes).toEqual(["app: created public.uuidv7(), pgstrap's SQL fallback (no pg_uuidv7, PostgreSQL before 18)", 'app: recorded strategy fallback']);
      expect(byId.verify!.notes).toEqual([expect.stringMatching(/^app: uuidv7\(\) strategy fallback; 10000 ids: .*in order \(0 of 9999 consecutive pairs out of order\)/)]);
      expect(await withClient(connectionFor(target, 'app'), readUuidv7Strategy)).toBe('fallback');
      expect((await runStepsQuietly(STEPS, project.config, target)).flatMap((r) => r.changes)).toEqual([]);
    });

    it('keeps ids in order within a session, even when the clock does not move', async () => {
      await withClient(connectionFor(target, 'app'), async (c) => {
        const { rows } = await c.query(ORDER_SQL);
        expect(rows[0]).toMatchObject({ out_of_order: 0, distinct_ids: 100000 });
        // Most pairs share their millisecond: there, the seed's web-copied function had half of them out of order.
        expect(rows[0].same_ms).toBeGreaterThan(50000);
        // A clock that does not move: with the session's last value a second ahead of the clock, every id
        // comes from last + 1, and order still holds (the same path two ids in one microsecond take).
        await c.query("SELECT set_config('pgstrap.uuidv7_last', ((date_part('epoch', clock_timestamp()) + 1) * 4096000)::bigint::text, false)");
        const { rows: frozen } = await c.query(ORDER_SQL.replace('100000', '10000'));
        expect(frozen[0]).toMatchObject({ out_of_order: 0, distinct_ids: 10000 });
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
      expect(verify!.notes[0]).toMatch(/^app: uuidv7\(\) strategy not recorded .*[1-9]\d* of 9999 consecutive pairs out of order; expected/);
      expect(verify!.notes[1]).toMatch(/^app: SQL fallback \(installed in a rolled-back transaction\): passes the same checks/);
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
