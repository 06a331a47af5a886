/** Database access only through scoped helpers, so no connection leaks. */
import pg from 'pg';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { redactUrl } from '../shared/secrets.ts';
import { describeTlsFailure, fallsBackToPlain, type TlsSettings } from './tls.ts';

/** How to reach one database: a socket directory or host, port, user, password; `tls` says what the URL asked for. */
export type ConnectionTarget = pg.ClientConfig & {
  tls?: TlsSettings | undefined;
  /** The URL as given (with the ssl parameters pgstrap took out of connectionString), for messages. */
  shownUrl?: string | undefined;
};

/** Opens a client, runs `fn`, and always closes it. */
export async function withClient<T>(target: ConnectionTarget, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await openClient(target);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A connect failure with the remedy that fits its cause (no server, no database, wrong password). */
function connectError(target: ConnectionTarget, error: unknown): PgstrapError {
  const code = (error as { code?: string }).code;
  const base = { message: `cannot connect to ${describeTarget(target)}: ${(error as Error).message}`, exit: ExitCode.cluster, cause: error };
  const tls = describeTlsConnectFailure(target, error);
  if (tls) return new PgstrapError({ code: tls.code, message: `cannot connect to ${describeTarget(target)}: ${tls.message}`, remedy: tls.remedy, exit: ExitCode.cluster, cause: error });
  if (code === '3D000') {
    return new PgstrapError({ ...base, code: 'db.missing-database', remedy: 'npm run setup creates the configured databases (for an external server, create it or use a URL without a database).' });
  }
  if (code === '55000') {
    // The database exists but takes no connections: left invalid by an interrupted DROP DATABASE, or ALLOW_CONNECTIONS false.
    return new PgstrapError({
      ...base,
      code: 'db.unavailable-database',
      remedy: 'A database an interrupted DROP DATABASE left invalid can only be dropped: npm run setup drops and creates it again on the project\'s cluster (on another server, DROP DATABASE it); one with ALLOW_CONNECTIONS false needs ALTER DATABASE ... WITH ALLOW_CONNECTIONS true.',
    });
  }
  if (code === '28P01' || code === '28000') {
    return new PgstrapError({ ...base, code: 'db.auth-failed', remedy: 'Check the user and password in the URL; for the local cluster, .pgstrap/password holds the superuser password.' });
  }
  return new PgstrapError({ ...base, code: 'db.connect-failed', remedy: 'Is the server running? npm run db:status shows it; npm run doctor explains what is wrong.' });
}

/** Runs `fn` in a transaction: COMMIT on success, ROLLBACK on any error. */
export async function withTransaction<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** One statement of a pipeline, with its parameters (converted to text as `client.query` does; the server infers their types). */
export interface PipelinedStatement {
  text: string;
  values?: readonly unknown[] | undefined;
  /**
   * false: the server keeps this statement's answer until a later statement's (or the Sync's), instead of
   * sending it as soon as the statement has run. Fewer, larger writes; what a lost connection shows of how
   * far the pipeline got is then the last statement flushed.
   */
  flush?: boolean | undefined;
  /**
   * A name for the statement, prepared once per pipeline: the first statement that carries it is parsed under
   * it, the later ones with the same name only bound to their values (their text must be the same). It stays
   * prepared on the session; a DEALLOCATE at the end of the pipeline removes it.
   */
  prepare?: string | undefined;
}

/** pg's own conversion of a parameter to its text form (arrays, dates, buffers, JSON). */
const prepareValue = (pg as unknown as { utils: { prepareValue: (value: unknown) => string | Buffer | null } }).utils.prepareValue;

/** A row of a pipelined statement, each column parsed by its type as `client.query` would. */
export type PipelineRow = Record<string, unknown>;

/** A pipeline stopped at statement `index` (0-based): the server's error, and the rows of the statements before it. */
export class PipelineError extends Error {
  /** The server's SQLSTATE, as on pg's own errors (undefined when the connection was lost). */
  readonly code: string | undefined;

  constructor(
    readonly index: number,
    readonly serverError: Error,
    readonly results: PipelineRow[][],
  ) {
    super(serverError.message, { cause: serverError });
    this.name = 'PipelineError';
    this.code = (serverError as { code?: string }).code;
  }
}

interface ProtocolConnection {
  stream: { cork?: () => void; uncork?: () => void };
  parse(query: { text: string; name?: string; types?: number[] }): void;
  bind(config: { portal?: string; statement?: string; values?: Array<string | Buffer | null> }): void;
  describe(msg: { type: 'P' | 'S'; name?: string }): void;
  execute(config: { portal?: string; rows?: number }): void;
  flush(): void;
  sync(): void;
  sendCopyFail(message: string): void;
}

/**
 * A pg Submittable that sends every statement as Parse, Bind, Describe, Execute, then one Sync: the server
 * runs them in order (each parsed after the one before it ran) and answers in one round trip. After an
 * error it skips the rest up to the Sync, so the count of completed statements names the one that failed.
 */
class Pipeline {
  private readonly results: PipelineRow[][] = [];
  private rows: PipelineRow[] = [];
  private fields: Array<{ name: string; parse: (value: string) => unknown }> = [];

  constructor(
    private readonly statements: readonly PipelinedStatement[],
    private readonly done: (error: PipelineError | undefined, results: PipelineRow[][]) => void,
  ) {}

  submit(connection: ProtocolConnection): void {
    connection.stream.cork?.();
    const prepared = new Set<string>();
    try {
      for (const statement of this.statements) {
        const name = statement.prepare ?? '';
        if (name === '' || !prepared.has(name)) connection.parse({ text: statement.text, name, types: [] });
        if (name !== '') prepared.add(name);
        connection.bind({ portal: '', statement: name, values: (statement.values ?? []).map(prepareValue) });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
        // The server holds its answers until Sync unless asked: flushed as each statement ends, they tell
        // how far it got if the connection is lost half way.
        if (statement.flush !== false) connection.flush();
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
  }

  handleRowDescription(msg: { fields: Array<{ name: string; dataTypeID: number }> }): void {
    this.fields = msg.fields.map((f) => ({ name: f.name, parse: pg.types.getTypeParser(f.dataTypeID, 'text') as (value: string) => unknown }));
  }

  handleDataRow(msg: { fields: Array<string | null> }): void {
    const row: PipelineRow = {};
    msg.fields.forEach((value, i) => {
      const field = this.fields[i]!;
      row[field.name] = value === null ? null : field.parse(value);
    });
    this.rows.push(row);
  }

  handleCommandComplete(): void {
    this.results.push(this.rows);
    this.rows = [];
    this.fields = [];
  }

  handleEmptyQuery(): void {
    this.handleCommandComplete();
  }

  handlePortalSuspended(): void {}

  handleCopyInResponse(connection: ProtocolConnection): void {
    connection.sendCopyFail('pgstrap sends no COPY data');
  }

  handleCopyData(): void {}

  // pg calls this at once on an error (the ReadyForQuery that follows reaches no query) or for a lost connection.
  handleError(error: Error): void {
    this.done(new PipelineError(this.results.length, error, this.results), this.results);
  }

  handleReadyForQuery(): void {
    this.done(undefined, this.results);
  }
}

/**
 * Runs `statements` in one round trip and resolves to the rows of each; rejects with a PipelineError
 * naming the statement that failed (the server ran none after it). Without BEGIN they form one implicit
 * transaction, as a multi-statement query does.
 */
export function queryPipeline(client: pg.Client, statements: readonly PipelinedStatement[]): Promise<PipelineRow[][]> {
  return new Promise((resolve, reject) => {
    client.query(new Pipeline(statements, (error, results) => (error ? reject(error) : resolve(results))) as unknown as pg.Submittable);
  });
}

/** The server's version, as a statement to run alone or in a pipeline; toServerVersion reads its rows. */
export const SERVER_VERSION: PipelinedStatement = {
  text: "SELECT current_setting('server_version') AS v, current_setting('server_version_num')::int AS n",
};

/** The server's version from SERVER_VERSION's rows: `17.10` (or e.g. `17.10 (Debian 17.10-1)`), 170010, 17. */
export function toServerVersion(rows: readonly Record<string, unknown>[]): { version: string; versionNum: number; major: number } {
  const row = rows[0] as { v: string; n: number | string };
  const versionNum = Number(row.n);
  return { version: row.v, versionNum, major: Math.floor(versionNum / 10000) };
}

/**
 * queryPipeline for statements that hold their own transactions (BEGIN … COMMIT or ROLLBACK): on any
 * error the transaction left open is rolled back (a failure of that is ignored) before the error is
 * rethrown, so the session is usable again. PipelineError.index still says which statement failed.
 */
export async function queryPipelineInTransaction(client: pg.Client, statements: readonly PipelinedStatement[]): Promise<PipelineRow[][]> {
  try {
    return await queryPipeline(client, statements);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * The connections of one run: one session per database, opened on first use and kept across the steps,
 * so a run pays each connection's handshake once. Users of one database take turns on its session.
 */
export class Sessions {
  private readonly open = new Map<string, { client: Promise<pg.Client>; turn: Promise<unknown> }>();

  constructor(private readonly connectionFor: (database: string) => ConnectionTarget) {}

  /** Starts connecting to `databases` at once, so later steps find their sessions open. */
  prepare(databases: readonly string[]): void {
    for (const database of databases) this.entry(database).client.catch(() => {});
  }

  /** Runs `fn` on `database`'s session after its other users are done. */
  async with<T>(database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const entry = this.entry(database);
    const run = entry.turn.then(async () => fn(await entry.client));
    entry.turn = run.catch(() => {});
    return run;
  }

  /** Closes `database`'s session (e.g. when its state is unknown after a failure); the next use opens a new one. */
  async close(database: string): Promise<void> {
    const entry = this.open.get(database);
    if (!entry) return;
    this.open.delete(database);
    await entry.turn;
    await entry.client.then((c) => c.end()).catch(() => {});
  }

  /** Closes every session: at the end of a run, and before the server stops or restarts. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((database) => this.close(database)));
  }

  /**
   * Says goodbye on every session (the protocol's Terminate, sent after what is on the wire) without waiting
   * for the server to close its side, which takes a backend's exit (about 5 ms each here, 17 ms for three):
   * for a process that ends with the run (the CLI). Its sockets no longer keep Node running. Code that goes on
   * to use the server (a template clone, a DROP DATABASE) must use closeAll, which waits for the backends.
   */
  async releaseAll(): Promise<void> {
    const entries = [...this.open.values()];
    this.open.clear();
    await Promise.all(
      entries.map(async (entry) => {
        await entry.turn;
        const client = await entry.client.catch(() => undefined);
        if (!client) return;
        client.end().catch(() => {});
        (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
      }),
    );
  }

  private entry(database: string): { client: Promise<pg.Client>; turn: Promise<unknown> } {
    let entry = this.open.get(database);
    if (entry) return entry;
    const connecting = openClient(this.connectionFor(database));
    entry = { client: connecting, turn: connecting.catch(() => {}) };
    this.open.set(database, entry);
    const current = entry;
    const forget = (): void => {
      if (this.open.get(database) === current) this.open.delete(database);
    };
    // A failed connect is not kept: the next use tries again (the database may be created meanwhile).
    connecting.then((client) => client.once('end', forget), forget);
    return entry;
  }
}

/** What went wrong when a TLS connect to `target` failed, and its fix; undefined for another failure. */
export function describeTlsConnectFailure(target: ConnectionTarget, error: unknown): { code: string; message: string; remedy: string } | undefined {
  return describeTlsFailure(error, hostOf(target), target.tls);
}

/** The host a target names, for messages. */
function hostOf(target: ConnectionTarget): string {
  if (target.connectionString) {
    try {
      return new URL(target.connectionString).hostname.replace(/^\[(.*)\]$/, '$1');
    } catch {
      return 'the server';
    }
  }
  return target.host ?? 'localhost';
}

/** Connects a client; a dropped connection rejects its pending query instead of crashing the process. */
async function openClient(target: ConnectionTarget): Promise<pg.Client> {
  const { tls, shownUrl: _shown, ...config } = target;
  let client = new pg.Client({ connectionTimeoutMillis: 10_000, ...config });
  try {
    await client.connect();
  } catch (error) {
    // sslmode=prefer, as libpq: a server that offers no TLS is asked again in plain text.
    if (!(fallsBackToPlain(tls) && /server does not support SSL/i.test((error as Error).message))) throw connectError(target, error);
    client = new pg.Client({ connectionTimeoutMillis: 10_000, ...config, ssl: false });
    try {
      await client.connect();
    } catch (plainError) {
      throw connectError(target, plainError);
    }
  }
  client.on('error', () => {});
  return client;
}

/** The backend pid the server announced at connect (BackendKeyData); a pooler announces one of its own. */
export function announcedPid(client: pg.Client): number | undefined {
  return (client as unknown as { processID: number | null }).processID ?? undefined;
}

/** The TLS version of a client's connection (e.g. `TLSv1.3`), or undefined when it is not encrypted. */
export function tlsProtocol(client: pg.Client): string | undefined {
  const stream = (client as unknown as { connection?: { stream?: { encrypted?: boolean; getProtocol?: () => string | null } } }).connection?.stream;
  return stream?.encrypted ? (stream.getProtocol?.() ?? 'TLS') : undefined;
}

/** Where a target points, without its password. */
export function describeTarget(target: ConnectionTarget): string {
  const url = target.shownUrl ?? target.connectionString;
  if (url) return redactUrl(url);
  return `${target.user ?? ''}@${target.host ?? 'localhost'}:${target.port ?? 5432}/${target.database ?? ''}`;
}

