/**
 * `npm run bench:uuidv7`: on one server, in one run, 1,000,000 ids from pgstrap's SQL fallback (the
 * configured one and the other FallbackRandom) against gen_random_uuid(), the widely copied peer SQL
 * function (in its SQL and PL/pgSQL forms), and pg_uuidv7 or native uuidv7() where the database has them;
 * then 1,000,000 rows inserted with each as the primary-key default: time, index size and keys out of
 * order side by side, with ratios, and each goal (generationGoals) with its verdict.
 * Works in a scratch schema of the project's first database (run `npm run setup` first) or of --url's.
 * Not a timed test: figures to read, on a quiet machine.
 */
import { FALLBACK_RANDOM_CHOICES, type FallbackRandom } from '../config/types.ts';
import type pg from 'pg';
import { messageOf } from '../shared/errors.ts';
import { quoteIdent } from '../shared/identifiers.ts';
import {
  createKeyTableSql,
  formatGenerationReport,
  generateSql,
  benchTable,
  outOfOrderSql,
  peerFunctionSql,
  PRIMARY_KEY_SIZE_SQL,
  insertKeysSql,
  type GenerationCandidate,
  type GenerationFigures,
  type GenerationReport,
  serverLabel,
} from './generation.ts';
import { installFallbackSql } from '../uuidv7/sql.ts';
import { SERVER_VERSION, toServerVersion, withClient } from '../server/connection.ts';
import { openProject } from '../pipeline/project.ts';
import { connectionFor } from '../server/target.ts';
import { median } from './stats.ts';

/** How much to measure. */
export interface GenerationOptions {
  rows: number;
  /** Generation runs per candidate (the median is reported). */
  repeats: number;
  /** Keyed-insert runs per candidate (the median is reported). */
  insertRepeats: number;
  /** The configured fallback (uuidv7.fallbackRandom): measured as `fallback`, against the goal; the other as `fallback_<choice>`. */
  fallbackRandom: FallbackRandom;
  log?: (line: string) => void;
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** A SQL fallback to measure, installed in a schema of its own. */
interface FallbackCandidate extends GenerationCandidate {
  random: FallbackRandom;
  schema: string;
}

/** Both fallbacks, the configured one first: it is `fallback`, the one the goal is for, in `schema`. */
function fallbackCandidates(schema: string, configured: FallbackRandom): FallbackCandidate[] {
  return [configured, ...FALLBACK_RANDOM_CHOICES.filter((r) => r !== configured)].map((random) => {
    const own = random === configured ? schema : `${schema}_${random}`;
    return {
      random,
      schema: own,
      id: random === configured ? 'fallback' : `fallback_${random}`,
      label: `SQL fallback, ${random}${random === configured ? ' (configured)' : ''}`,
      expression: `${quoteIdent(own)}.uuidv7()`,
    };
  });
}

/** A peer function to measure, created in a schema of its own. */
interface PeerCandidate extends GenerationCandidate {
  language: 'sql' | 'plpgsql';
  schema: string;
}

/** The widely copied peer: its inlinable SQL form (the goal's yardstick) and the gist's PL/pgSQL original. */
function peerCandidates(schema: string): PeerCandidate[] {
  return (['sql', 'plpgsql'] as const).map((language) => {
    const own = `${schema}_peer_${language}`;
    return {
      language,
      schema: own,
      id: language === 'sql' ? 'peer' : 'peer_plpgsql',
      label: `peer: timestamp over gen_random_uuid(), ${language === 'sql' ? 'SQL' : 'PL/pgSQL'}`,
      expression: `${quoteIdent(own)}.uuid_generate_v7()`,
    };
  });
}

/** The database's own generators besides v4: pg_uuidv7 and native uuidv7() where it has them. */
async function serverCandidates(client: pg.Client): Promise<GenerationCandidate[]> {
  const list: GenerationCandidate[] = [];
  const { rows } = await client.query<{ ext: string | null; native: boolean }>(
    `SELECT (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_uuidv7') AS ext,
            to_regprocedure('pg_catalog.uuidv7()') IS NOT NULL AS native`,
  );
  if (rows[0]!.ext) list.push({ id: 'pg_uuidv7', label: 'pg_uuidv7 uuid_generate_v7()', expression: `${quoteIdent(rows[0]!.ext)}.uuid_generate_v7()` });
  if (rows[0]!.native) list.push({ id: 'native', label: 'native uuidv7() (PostgreSQL 18)', expression: 'pg_catalog.uuidv7()' });
  return list;
}

/**
 * Measures on `client`'s database in a scratch schema it drops afterwards, whatever happens. Generation
 * runs are interleaved across candidates so that a noisy moment hits them all alike.
 */
export async function measureUuidv7Generation(client: pg.Client, options: GenerationOptions): Promise<GenerationReport> {
  const log = options.log ?? (() => {});
  const schema = `pgstrap_bench_uuidv7_${process.pid}`;
  const { version } = toServerVersion((await client.query(SERVER_VERSION.text)).rows);
  const build = (await client.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v;
  const fallbacks = fallbackCandidates(schema, options.fallbackRandom);
  const peers = peerCandidates(schema);
  const schemas = [...fallbacks.map((f) => f.schema), ...peers.map((p) => p.schema)];
  try {
    for (const f of fallbacks) {
      await client.query(`CREATE SCHEMA ${quoteIdent(f.schema)}`);
      await client.query(installFallbackSql(f.schema, f.random));
    }
    for (const p of peers) {
      await client.query(`CREATE SCHEMA ${quoteIdent(p.schema)}`);
      await client.query(peerFunctionSql(p.schema, p.language));
    }
    const v4: GenerationCandidate = { id: 'v4', label: 'gen_random_uuid() (v4)', expression: 'gen_random_uuid()' };
    const list: Array<GenerationCandidate & { random?: FallbackRandom }> = [v4, ...fallbacks, ...peers, ...(await serverCandidates(client))];
    const times = new Map<string, number[]>(list.map((c) => [c.id, []]));
    for (let run = 0; run < options.repeats; run++) {
      for (const c of list) {
        const s = await seconds(() => client.query(generateSql(c.expression), [options.rows]));
        times.get(c.id)!.push(s);
        log(`generate ${c.label}: ${s.toFixed(2)} s`);
      }
    }
    // Keyed inserts take turns too, one table at a time (dropped once measured); the last round gives index size and order.
    const inserts = new Map<string, number[]>(list.map((c) => [c.id, []]));
    const last = new Map<string, { indexBytes: number; outOfOrder: number }>();
    for (let run = 0; run < options.insertRepeats; run++) {
      for (const c of list) {
        await client.query(createKeyTableSql(schema, c));
        const s = await seconds(() => client.query(insertKeysSql(schema, c), [options.rows]));
        inserts.get(c.id)!.push(s);
        const indexBytes = Number((await client.query<{ bytes: string }>(PRIMARY_KEY_SIZE_SQL, [benchTable(schema, c.id)])).rows[0]!.bytes);
        const outOfOrder = Number((await client.query<{ n: string }>(outOfOrderSql(schema, c.id))).rows[0]!.n);
        last.set(c.id, { indexBytes, outOfOrder });
        log(`insert ${c.label}: ${s.toFixed(2)} s, index ${(indexBytes / 1048576).toFixed(1)} MB, ${outOfOrder} keys out of order`);
        await client.query(`DROP TABLE ${benchTable(schema, c.id)}`);
      }
    }
    const figures: GenerationFigures[] = list.map((c) => ({
      id: c.id,
      label: c.label,
      generateSeconds: median(times.get(c.id)!),
      insertSeconds: median(inserts.get(c.id)!),
      generateRuns: times.get(c.id)!,
      insertRuns: inserts.get(c.id)!,
      ...last.get(c.id)!,
      random: c.random,
    }));
    return { server: serverLabel(version, build), rows: options.rows, repeats: options.repeats, insertRepeats: options.insertRepeats, figures };
  } finally {
    for (const own of schemas) await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(own)} CASCADE`).catch(() => {});
  }
}

async function main(argv: string[]): Promise<number> {
  const url = argv.includes('--url') ? argv[argv.indexOf('--url') + 1] : undefined;
  const rows = argv.includes('--rows') ? Number(argv[argv.indexOf('--rows') + 1]) : 1_000_000;
  const project = await openProject({ url });
  const database = project.target.databases[0]!.name;
  try {
    const fallbackRandom = project.config.uuidv7.fallbackRandom;
    const report = await withClient(connectionFor(project.target, database), (client) =>
      measureUuidv7Generation(client, { rows, repeats: 5, insertRepeats: 3, fallbackRandom, log: (line) => process.stderr.write(`  ${line}\n`) }),
    );
    process.stdout.write(`${formatGenerationReport(report)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`bench:uuidv7 failed: ${messageOf(error)}\n(is the cluster running? npm run setup)\n`);
    return 1;
  }
}

if (process.argv[1]?.endsWith('uuidv7-generation.ts')) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
