/**
 * Proves uuidv7() in every managed database: the strategy in effect, a batch of ids checked for
 * version, variant, uniqueness, clock and (where promised) order, a table that takes rows with it as
 * the key default; then the SQL fallback, installed in a rolled-back transaction, passes the same checks.
 * It changes nothing: every statement runs in a transaction that is rolled back. Each generator's checks
 * take one round trip.
 */
import type pg from 'pg';
import { ExitCode, messageOf, PgstrapError } from '../shared/errors.ts';
import { nothingChanged } from '../pipeline/report.ts';
import { splitStatements } from '../shared/sql-statements.ts';
import { quoteIdent } from '../shared/identifiers.ts';
import {
  batchSql,
  defaultRowsFor,
  insertedRows,
  DEFAULT_ROWS_SQL,
  defaultSql,
  judgeBatch,
  toBatchResult,
  verifyBatchSize,
  type BatchVerdict,
} from './checks.ts';
import type { FallbackRandom } from '../config/types.ts';
import { FALLBACK_RANDOM_WORDS, installFallbackSql } from './sql.ts';
import { describeStrategy, promisesOrder, UUIDV7_SCHEMA } from './strategy.ts';
import { PipelineError, queryPipelineInTransaction, type PipelinedStatement, type PipelineRow } from '../server/connection.ts';
import { readStrategyAndFallback } from './read.ts';
import { withSession, type Step } from '../pipeline/step.ts';

/** Statements to run before the checks, and how a failure among them is described. */
interface CheckSetup {
  statements: string[];
  failure: string;
}

/**
 * Checks one generator: a batch, then the key-default tables, after `setup` (e.g. installing the fallback
 * in a scratch schema), all in one round trip and in a transaction that is rolled back. Errors become
 * failures, not crashes.
 */
async function verifyGenerator(client: pg.Client, generator: string, extractSchema: string, ordered: boolean, batch: number, setup?: CheckSetup, readOnly = false): Promise<BatchVerdict> {
  const prefix = ['BEGIN', ...(setup?.statements ?? [])];
  // The key-default tables are writes (temporary tables, rolled back): a read-only server gets the SELECT of ids alone.
  const rows = defaultRowsFor(batch);
  const tables = readOnly ? [] : [...defaultSql(generator, rows), { text: DEFAULT_ROWS_SQL }];
  const checks: PipelinedStatement[] = [{ text: batchSql(generator, extractSchema), values: [batch] }, ...tables];
  let results: PipelineRow[][];
  try {
    results = await queryPipelineInTransaction(client, [...prefix.map((text) => ({ text })), ...checks, { text: 'ROLLBACK' }]);
  } catch (error) {
    const failed = error instanceof PipelineError ? error : undefined;
    const message = messageOf(failed?.serverError ?? error);
    if (setup && failed && failed.index > 0 && failed.index < prefix.length) return { failures: [`${setup.failure}: ${message}`], facts: [] };
    return { failures: [`${generator} failed: ${message}`], facts: [] };
  }
  const verdict = judgeBatch(toBatchResult(results[prefix.length]![0]!), batch, ordered);
  if (readOnly) return verdict;
  const inserted = Number(results[prefix.length + checks.length - 1]![0]!.n);
  if (inserted !== insertedRows(rows)) verdict.failures.push(`tables with DEFAULT ${generator} took ${inserted} of ${insertedRows(rows)} rows`);
  else verdict.facts.push(`DEFAULT ${generator} and DEFAULT COALESCE(${generator}, gen_random_uuid()) take rows`);
  return verdict;
}

/** The verdicts for one database: the strategy in effect, then the fallback. */
async function verifyDatabase(client: pg.Client, database: string, random: FallbackRandom, batch: number): Promise<{ failures: string[]; notes: string[] }> {
  const { strategy, fallbackRandom, readOnly, recordDenied } = await readStrategyAndFallback(client, UUIDV7_SCHEMA);
  const described = strategy === undefined ? undefined : describeStrategy(strategy, strategy === 'fallback' ? fallbackRandom : undefined);
  const failures: string[] = [];
  const notes: string[] = [];
  // A uuidv7() pgstrap did not record (a team's own) promises nothing: its disorder is reported, not failed.
  const inUse = await verifyGenerator(client, 'uuidv7()', UUIDV7_SCHEMA, strategy !== undefined && promisesOrder(strategy), batch, undefined, readOnly);
  const unknown = recordDenied === undefined ? 'not recorded (npm run setup records it)' : `unknown: this role may not read pgstrap's record (${recordDenied})`;
  notes.push(`${database}: uuidv7() strategy ${described ?? unknown}; ${inUse.facts.join('; ')}`);
  failures.push(...inUse.failures.map((f) => `${database}: uuidv7(): ${f}`));
  if (readOnly) {
    // Nothing that writes is tried, even in a transaction that would be rolled back.
    const fallback = strategy === 'fallback' ? '' : ', nor the SQL fallback (installing it is a write)';
    notes.push(`${database}: read-only (transaction_read_only is on): checked ids from a SELECT only; skipped the key-default tables (temporary tables are writes)${fallback}`);
    return { failures, notes };
  }
  // The fallback, even where it is not in use: a team learns it works on a server without the extension.
  // Where it is the strategy, the check above ran this very SQL (the uuidv7 step keeps the body identical).
  if (strategy === 'fallback') return { failures, notes };
  // The configured fallback: the one setup would install if this server lost its extension.
  const schema = `pgstrap_verify_${process.pid}`;
  const install = [`CREATE SCHEMA ${quoteIdent(schema)}`, ...splitStatements(installFallbackSql(schema, random)).map((s) => s.text)];
  const fallback = await verifyGenerator(client, `${quoteIdent(schema)}.uuidv7()`, schema, true, batch, { statements: install, failure: 'installing it failed' });
  notes.push(`${database}: SQL fallback, ${FALLBACK_RANDOM_WORDS[random]} (installed in a rolled-back transaction): ${fallback.failures.length === 0 ? 'passes the same checks' : 'FAILS'}${fallback.facts.length ? `; ${fallback.facts[0]}` : ''}`);
  failures.push(...fallback.failures.map((f) => `${database}: SQL fallback: ${f}`));
  return { failures, notes };
}

export const verifyStep: Step = {
  id: 'verify',
  title: 'Verify uuidv7()',
  async run(ctx) {
    // After a run that changed nothing, fewer ids prove the same things; after any change (or alone), the full batch.
    const unchanged = ctx.reports.length > 0 && nothingChanged(ctx.reports);
    const batch = verifyBatchSize(unchanged);
    ctx.log(`drawing ${batch} ids in ${ctx.target.databases.map((d) => d.name).join(', ')}${unchanged ? ' (nothing changed in this run)' : ''}`);
    // One connection per database, concurrently: the server checks them in parallel, and nothing is shared.
    const results = await Promise.all(
      ctx.target.databases.map((db) =>
        withSession(ctx, db.name, (client) => verifyDatabase(client, db.name, ctx.config.uuidv7.fallbackRandom, batch)),
      ),
    );
    const failures = results.flatMap((r) => r.failures);
    const notes = results.flatMap((r) => r.notes);
    if (failures.length > 0) {
      throw new PgstrapError({
        code: 'verify.failed',
        message: `uuidv7() failed verification in ${new Set(failures.map((f) => f.split(':')[0])).size} database(s)`,
        details: [...failures, ...notes],
        remedy: 'Run `npm run setup` to (re)install uuidv7(); `npm run doctor` explains the server. If it persists, report the lines above.',
        exit: ExitCode.failure,
      });
    }
    return { notes, verdict: 'passed' };
  },
};
