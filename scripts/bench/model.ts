/** What the primary-key benchmark measures, as plain data: the JSON `npm run bench -- --json` prints. */
import type { LatencySummary } from './stats.ts';

/** One way to generate primary keys, measured side by side with the others. */
export interface Generator {
  /** Stable key in the JSON: `v4`, `uuidv7`, `fallback`, `pg_uuidv7`. */
  id: string;
  /** How tables and charts name it, e.g. `uuidv7() (pg_uuidv7)`. */
  label: string;
  /** The SQL expression a column default calls, schema-qualified where it matters. */
  expression: string;
  /** The UUID version every generated key must carry. */
  version: 4 | 7;
}

/** INSERT ... SELECT of all rows in one statement. */
export interface BulkLoad {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** The statement's own WAL (EXPLAIN ANALYZE's WAL Bytes, immune to other sessions), divided by the rows. */
  walBytesPerRow: number;
}

/** The primary-key index right after the bulk load. */
export interface IndexFigures {
  bytes: number;
  /** pgstatindex's avg_leaf_density in percent; null without pgstattuple. */
  leafDensity: number | null;
  /** pgstatindex's leaf_fragmentation in percent; null without pgstattuple. */
  leafFragmentation: number | null;
  /** pg_stats.correlation of the key column: 1 when keys follow the heap order, about 0 when random. */
  correlation: number | null;
}

/** Single-row INSERT transactions from a few concurrent clients for a fixed time. */
export interface InsertThroughput {
  /** `node` (pg clients in this process) or `pgbench`. */
  driver: 'node' | 'pgbench';
  clients: number;
  seconds: number;
  transactions: number;
  perSecond: number;
  /** Each round's rate, to show how steady the machine was. */
  perSecondByRound: number[];
  /** pg_wal_lsn_diff over the window, divided by the transactions: server-wide, so see otherSessionsActive. */
  walBytesPerInsert: number;
  /** Share (0-1) of 200 ms samples in which sessions not of this run were active on the server. */
  otherSessionsActive: number;
}

/** Generating ids alone, with no table: `SELECT count(expr) FROM generate_series(1, n)`. */
export interface GenerationCost {
  ids: number;
  seconds: number;
  nanosecondsPerId: number;
}

/** Whether every key of the bulk-loaded table carries the generator's version and the RFC 9562 variant. */
export interface KeyCheck {
  checked: number;
  wrongVersion: number;
  wrongVariant: number;
}

/** Everything measured for one generator. */
export interface GeneratorResult {
  generator: Generator;
  keys: KeyCheck;
  bulk: BulkLoad;
  index: IndexFigures;
  inserts: InsertThroughput;
  /** The seed's query: `WHERE status = 'pending' ORDER BY id DESC LIMIT 50`, latency in ms. */
  polling: LatencySummary;
  /** The same query with an index on (status, id DESC), as the example llm_requests migration has. */
  pollingIndexed: LatencySummary;
  /** `WHERE id > $last ORDER BY id LIMIT 50`, walking the table, latency in ms. */
  keyset: LatencySummary;
  generation: GenerationCost;
}

/** The whole primary-key benchmark run. */
export interface KeyBenchReport {
  rows: number;
  /** `version()`'s short form, e.g. `PostgreSQL 17.10`. */
  server: string;
  /** Settings that change the figures (shared_buffers, synchronous_commit, ...). */
  settings: Record<string, string>;
  machine: { cpus: number; loadAverage: number[] };
  /** The uuidv7() strategy in effect in the database measured, when it has one. */
  strategy: string | null;
  generators: GeneratorResult[];
  /** Facts about the run: a generator left out and why, pgstattuple missing, the insert driver. */
  notes: string[];
}

/** Wall times in seconds, each run's and their median. */
export interface Timing {
  runs: number[];
  median: number;
}

/** Cold and warm setup against the floor, with the goals they are held to. */
export interface SetupFigures {
  engine: string;
  databases: string[];
  floor: Timing;
  coldSetup: Timing;
  /** The median of each round's cold setup over its floor run (stats.ts pairedRatio); the goal is at most 1.5. */
  coldRatio: number;
  /**
   * The same runs with the stop that ends them timed too: `pg_ctl stop -m fast --wait` after the floor, `pgstrap
   * stop` after the cold setup (Node start included), each run directly; `ratio` paired as coldRatio.
   */
  withStop?: { floor: Timing; coldSetup: Timing; ratio: number } | undefined;
  /** `npm run setup` when nothing is to do; the goal is under 1 s. */
  warmSetup: Timing;
  /** The same without npm: `node --import tsx scripts/cli.ts setup`. */
  warmSetupNode: Timing;
  goals: { coldWithin1_5xFloor: boolean; warmUnder1s: boolean };
}

/** One figure of `--all` beyond the key benchmark: setup, doctor, migrations, uuidv7 generation. */
export interface Figure {
  /** The panel it belongs to, e.g. `Cold setup vs the bare-script floor`. */
  group: string;
  label: string;
  value: number;
  unit: string;
  /** Palette index, so a generator keeps its colour from the key panels; default: its place in the group. */
  series?: number | undefined;
  /** The goal it is held to, e.g. `within 1.5x of the floor`, and whether this run met it. */
  goal?: { text: string; met: boolean } | undefined;
}
