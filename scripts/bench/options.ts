/** The bench's flags, validated once into options. Pure. */
import { DEFAULT_FALLBACK_RANDOM, type FallbackRandom } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';

/** How much the primary-key benchmark measures. */
export interface KeyBenchOptions {
  /** Rows bulk-loaded per generator. */
  rows: number;
  /** Seconds of single-row inserts per generator, over all rounds. */
  insertSeconds: number;
  /** Rounds the generators take turns in, so machine noise falls on all alike. */
  insertRounds: number;
  /** Concurrent clients for the single-row inserts. */
  clients: number;
  /** Timed executions of each polling query. */
  queries: number;
  /** Ids generated for the generation cost. */
  generationIds: number;
  /** `auto`: pgbench where its binary exists, else Node. */
  driver: 'auto' | 'node' | 'pgbench';
  /** The server's bin folder, where pgbench may live. */
  binDir?: string | undefined;
  /** The SQL fallback measured (the config's uuidv7.fallbackRandom), so it is the one uuidv7() runs. */
  fallbackRandom: FallbackRandom;
}

/** Sized to finish in about a minute on a 2-core machine with three generators. */
export const DEFAULT_KEY_BENCH: KeyBenchOptions = {
  rows: 500_000,
  insertSeconds: 6,
  insertRounds: 3,
  clients: 4,
  queries: 200,
  generationIds: 1_000_000,
  driver: 'auto',
  fallbackRandom: DEFAULT_FALLBACK_RANDOM,
};

/** The raw flags `npm run bench` takes. */
export interface BenchFlags {
  rows?: string | undefined;
  driver?: string | undefined;
  yes?: boolean | undefined;
  all?: boolean | undefined;
  chart?: string | undefined;
}

function usage(message: string): PgstrapError {
  return new PgstrapError({ code: 'usage', message, remedy: 'npm run bench -- --help lists the flags.', exit: ExitCode.usage });
}

/** Options from flags: --rows accepts 1000, 1_000, 1e6, 2M; --driver auto|node|pgbench. */
export function parseBenchFlags(flags: BenchFlags): KeyBenchOptions {
  const options = { ...DEFAULT_KEY_BENCH };
  if (flags.rows !== undefined) {
    const match = /^(\d+(?:\.\d+)?(?:e\d+)?)([kKmM]?)$/.exec(flags.rows.replaceAll('_', '').replaceAll(',', ''));
    const scale = match?.[2]?.toLowerCase() === 'k' ? 1e3 : match?.[2]?.toLowerCase() === 'm' ? 1e6 : 1;
    const rows = match ? Number(match[1]) * scale : Number.NaN;
    if (!Number.isInteger(rows) || rows < 100 || rows > 100_000_000) throw usage(`--rows must be a whole number from 100 to 100M, got "${flags.rows}"`);
    options.rows = rows;
  }
  if (flags.driver !== undefined) {
    if (!['auto', 'node', 'pgbench'].includes(flags.driver)) throw usage(`--driver must be auto, node or pgbench, got "${flags.driver}"`);
    options.driver = flags.driver as KeyBenchOptions['driver'];
  }
  return options;
}
