/** Gives every managed database a uuidv7(): native on 18+, a pg_uuidv7 wrapper, or the SQL fallback. */
import { ExitCode, partialFailure, PgstrapError } from '../shared/errors.ts';
import { FAST_RANDOM_CAVEAT, RECORD_STRATEGY_SQL, STATE_SCHEMA, STRATEGY_TABLE } from './sql.ts';
import { quoteIdent } from '../shared/identifiers.ts';
import { missingCreateRights } from '../server/privileges.ts';
import { readCreateRights } from '../server/read-privileges.ts';
import { planUuidv7, UUIDV7_SCHEMA } from './strategy.ts';
import { withTransaction } from '../server/connection.ts';
import { readUuidv7State } from './read.ts';
import { withSession, type Step } from '../pipeline/step.ts';

export const uuidv7Step: Step = {
  id: 'uuidv7',
  title: 'Provide uuidv7()',
  async run(ctx) {
    const changes: string[] = [];
    const notes: string[] = [];
    const random = ctx.config.uuidv7.fallbackRandom;
    let fastFallbackOnExternal = false;
    // Read side by side, one session per database; then applied one database at a time, in order.
    const states = await Promise.all(ctx.target.databases.map((db) => withSession(ctx, db.name, (client) => readUuidv7State(client, UUIDV7_SCHEMA))));
    for (const [i, db] of ctx.target.databases.entries()) {
      await withSession(ctx, db.name, async (client) => {
        const state = states[i]!;
        const plan = planUuidv7(state, ctx.config.uuidv7);
        notes.push(...plan.notes.map((n) => `${db.name}: ${n}`));
        if (plan.managed && plan.strategy === 'fallback' && random === 'fast' && ctx.target.kind === 'external') fastFallbackOnExternal = true;
        if (plan.statements.length === 0 && !plan.record) {
          if (plan.managed) notes.push(`${db.name}: uuidv7() strategy ${plan.description}`);
          return;
        }
        // Asked before trying, only when there is something to do: what the role lacks, with the GRANT that gives it.
        const newSchema = state.recorded === undefined ? STATE_SCHEMA : undefined;
        const functions = plan.strategy !== 'native';
        const rights = await readCreateRights(client, UUIDV7_SCHEMA);
        const lacking = functions || newSchema !== undefined ? missingCreateRights(rights, { functions, newSchema }) : [];
        if (state.recordDenied !== undefined) {
          // Another role made the record: this one can neither read nor rewrite it.
          const table = `${quoteIdent(STATE_SCHEMA)}.${quoteIdent(STRATEGY_TABLE)}`;
          lacking.splice(0, lacking.length, {
            lacks: `access to pgstrap's strategy record ${STATE_SCHEMA}.${STRATEGY_TABLE} (${state.recordDenied})`,
            grant: `GRANT USAGE ON SCHEMA ${quoteIdent(STATE_SCHEMA)} TO ${quoteIdent(rights.role)}; GRANT SELECT, INSERT, UPDATE ON ${table} TO ${quoteIdent(rights.role)} (or run setup as the role that made it)`,
          });
        }
        if (lacking.length > 0) {
          throw new PgstrapError({
            code: 'uuidv7.not-permitted',
            message: `${db.name}: cannot provide uuidv7() (${plan.strategy}): the role lacks ${lacking.map((l) => l.lacks).join(', and ')}`,
            details: changes.length > 0 ? ['already done (committed):', ...changes.map((c) => `  ${c}`)] : [],
            remedy: `As the database's owner: ${lacking.map((l) => l.grant).join('; ')}. Then run \`npm run setup\` again.`,
            exit: ExitCode.database,
          });
        }
        for (const line of plan.changes) ctx.log(`${db.name}: ${line}`);
        // All or nothing per database: a failure leaves its previous uuidv7() in place.
        try {
          await withTransaction(client, async () => {
            for (const sql of plan.statements) await client.query(sql);
            if (plan.record) await client.query(RECORD_STRATEGY_SQL, [plan.strategy, plan.strategy === 'native' ? null : UUIDV7_SCHEMA, state.serverVersionNum]);
          });
        } catch (error) {
          throw partialFailure({
            code: 'uuidv7.failed',
            what: `providing uuidv7() (${plan.strategy})`,
            database: db.name,
            done: changes,
            remedy: 'Fix the cause above (often: the role may not create functions in schema public) and run `npm run setup` again.',
            cause: error,
          });
        }
        changes.push(...plan.changes.map((c) => `${db.name}: ${c}`));
      });
    }
    // A shared server is where guessable ids could matter: say so once, with the way out.
    if (fastFallbackOnExternal) notes.push(FAST_RANDOM_CAVEAT);
    return { changes, notes };
  },
};
