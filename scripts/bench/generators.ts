/** Which key generators a database offers the bench, and why any is left out. Pure. */
import { quoteIdent } from '../shared/identifiers.ts';
import type { Generator } from './model.ts';

/** The generator that every other is compared with. */
export const V4: Generator = { id: 'v4', label: 'v4 gen_random_uuid()', expression: 'gen_random_uuid()', version: 4 };

/** What the database has, as read by the bench. */
export interface GeneratorFacts {
  /** The recorded uuidv7() strategy (`native`, `pg_uuidv7`, `fallback`), or null when none is recorded. */
  strategy: string | null;
  /** Whether `uuidv7()` resolves on the search path. */
  hasUuidv7: boolean;
  /** The schema pg_uuidv7 is installed in, or null. */
  pgUuidv7Schema: string | null;
  /** The bench's own schema, where it installs the SQL fallback. */
  benchSchema: string;
}

/**
 * v4 first, then the uuidv7() in effect, the SQL fallback and pg_uuidv7's uuid_generate_v7(). When the
 * strategy is the fallback, uuidv7() and the bench's copy run the same SQL, so it is measured once.
 */
export function chooseGenerators(facts: GeneratorFacts): { generators: Generator[]; strategy: string | null; notes: string[] } {
  const notes: string[] = [];
  const generators: Generator[] = [V4];
  const strategy = facts.strategy ?? (facts.hasUuidv7 ? 'unknown' : null);
  const same = strategy === 'fallback';
  if (!facts.hasUuidv7) notes.push('this database has no uuidv7(): npm run setup installs it');
  else if (!same) generators.push({ id: 'uuidv7', label: `uuidv7() (${strategy})`, expression: 'uuidv7()', version: 7 });
  if (same) notes.push("uuidv7() here is the SQL fallback, so it is measured once, as the bench schema's copy");
  generators.push({
    id: 'fallback',
    label: same ? 'uuidv7() (SQL fallback)' : 'SQL fallback',
    expression: `${quoteIdent(facts.benchSchema)}.uuidv7()`,
    version: 7,
  });
  if (facts.pgUuidv7Schema !== null) {
    generators.push({ id: 'pg_uuidv7', label: 'pg_uuidv7 uuid_generate_v7()', expression: `${quoteIdent(facts.pgUuidv7Schema)}.uuid_generate_v7()`, version: 7 });
  } else {
    notes.push('pg_uuidv7 is not installed in this database, so uuid_generate_v7() is not measured');
  }
  return { generators, strategy, notes };
}
