/** Which configured databases must be created. Databases are never dropped by setup. */
import { quoteIdent } from '../shared/identifiers.ts';

/** The databases to create, in config order. */
export function planDatabases(declared: readonly string[], existing: ReadonlySet<string>): string[] {
  return declared.filter((name) => !existing.has(name));
}

/** How CREATE DATABASE copies its template (PostgreSQL 15+; before, always as FILE_COPY does). */
export type CopyStrategy = 'WAL_LOG' | 'FILE_COPY';

/** CREATE DATABASE `name` from `template` (else template1), with STRATEGY only where the server knows it (15+). */
export function createDatabaseStatement(name: string, options: { template?: string | undefined; strategy?: CopyStrategy | undefined; serverMajor?: number } = {}): string {
  const template = options.template === undefined ? '' : ` TEMPLATE ${quoteIdent(options.template)}`;
  const strategy = options.strategy !== undefined && (options.serverMajor ?? 0) >= 15 ? ` STRATEGY ${options.strategy}` : '';
  return `CREATE DATABASE ${quoteIdent(name)}${template}${strategy}`;
}
