/**
 * Which configured databases must be created. Setup drops none, but one: a declared database that an
 * interrupted DROP DATABASE left invalid, which nothing can open and only a drop may touch.
 */
import { quoteIdent } from '../shared/identifiers.ts';

/**
 * What the server says of one database. `invalid`: a DROP DATABASE was interrupted after it began removing
 * files (PostgreSQL marks it with datconnlimit -2 since 16.0, 15.4, 14.9, 13.12 and 12.16).
 */
export interface DatabaseState {
  invalid: boolean;
}

/** What setup does to the declared databases: `create` in config order; `rebuild`, those among them to drop first. */
export interface DatabasePlan {
  create: string[];
  rebuild: string[];
}

/** The plan for `declared` against the server's databases. */
export function planDatabases(declared: readonly string[], existing: ReadonlyMap<string, DatabaseState>): DatabasePlan {
  const rebuild = declared.filter((name) => existing.get(name)?.invalid === true);
  return { create: declared.filter((name) => !existing.has(name) || rebuild.includes(name)), rebuild };
}

/** DROP DATABASE IF EXISTS `name`; `force` ends its other sessions first (PostgreSQL 13+). */
export function dropDatabaseStatement(name: string, options: { force?: boolean } = {}): string {
  return `DROP DATABASE IF EXISTS ${quoteIdent(name)}${options.force ? ' WITH (FORCE)' : ''}`;
}

/** How CREATE DATABASE copies its template (PostgreSQL 15+; before, always as FILE_COPY does). */
export type CopyStrategy = 'WAL_LOG' | 'FILE_COPY';

/** CREATE DATABASE `name` from `template` (else template1), with STRATEGY only where the server knows it (15+). */
export function createDatabaseStatement(name: string, options: { template?: string | undefined; strategy?: CopyStrategy | undefined; serverMajor?: number } = {}): string {
  const template = options.template === undefined ? '' : ` TEMPLATE ${quoteIdent(options.template)}`;
  const strategy = options.strategy !== undefined && (options.serverMajor ?? 0) >= 15 ? ` STRATEGY ${options.strategy}` : '';
  return `CREATE DATABASE ${quoteIdent(name)}${template}${strategy}`;
}
