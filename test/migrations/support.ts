/** A cluster for migration tests, with one fresh database and migrations folder per test. */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedDatabase } from '../../scripts/config/types.ts';
import { quoteIdent } from '../../scripts/shared/identifiers.ts';
import type { ManagedTarget } from '../../scripts/server/target.ts';
import { initialiseStep, settingsStep, startStep } from '../../scripts/cluster/step.ts';
import { makeProject, managedTarget, query, runStepsQuietly, type TestProject } from '../support/project.ts';

/** A running embedded cluster and a way to make databases with their own migrations folder. */
export interface MigrationCluster {
  project: TestProject;
  target: ManagedTarget;
  /** Creates database `name` and `<project>/<name>/` with `files`; returns its declaration. */
  database(name: string, files?: Record<string, string>, command?: string[]): Promise<ResolvedDatabase>;
  /** Writes (or, with `undefined`, deletes) files in a database's folder. */
  write(db: ResolvedDatabase, files: Record<string, string | undefined>): void;
}

/** Starts a cluster for one test file; `project.remove()` stops it. */
export async function startMigrationCluster(): Promise<MigrationCluster> {
  const project = await makeProject({ engine: 'embedded' });
  const target = await managedTarget(project);
  await runStepsQuietly([initialiseStep, settingsStep, startStep], project.config, target);
  const write = (db: ResolvedDatabase, files: Record<string, string | undefined>) => {
    fs.mkdirSync(db.migrations.directory, { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(db.migrations.directory, name);
      if (text === undefined) fs.rmSync(file, { force: true });
      else fs.writeFileSync(file, text);
    }
  };
  return {
    project,
    target,
    write,
    async database(name, files = {}, command) {
      await query(target, 'postgres', `CREATE DATABASE ${quoteIdent(name)}`);
      // A stand-in for the uuidv7() the uuidv7 step provides, so the shipped migrations run here.
      await query(target, name, 'CREATE FUNCTION uuidv7() RETURNS uuid LANGUAGE sql AS $$ SELECT gen_random_uuid() $$');
      const db: ResolvedDatabase = { name, migrations: { directory: path.join(project.dir, name), builtIn: true, command } };
      write(db, files);
      return db;
    },
  };
}
