/**
 * Errors are values: each names what went wrong, why, and what to run about it.
 * They are made where the problem is found and rendered once, at the CLI's edge (render-error.ts).
 */

/** Process exit codes; README.md documents them. */
export const ExitCode = {
  ok: 0,
  /** A check failed or something unexpected broke (doctor: any failing check). */
  failure: 1,
  /** The command line or the config file is wrong. */
  usage: 2,
  /** The machine lacks something: PostgreSQL binaries, a required extension, a reachable directory. */
  environment: 3,
  /** The cluster could not be initialised, started or stopped (port taken, crash, timeout). */
  cluster: 4,
  /** A statement, migration or seed failed on the server, or the server takes no writes from this role. */
  database: 5,
  /** `migrate:status` found pending or drifted migrations. */
  pending: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface PgstrapErrorInit {
  /** Stable identifier, e.g. `config.invalid`, `cluster.port-in-use`. */
  code: string;
  /** One sentence: what is wrong. */
  message: string;
  /** Further lines that explain it (each config problem, the tail of a log). */
  details?: string[];
  /** What to run or change to fix it. */
  remedy?: string;
  exit: ExitCode;
  cause?: unknown;
}

/** The one error type the orchestrator raises on purpose. */
export class PgstrapError extends Error {
  readonly code: string;
  readonly details: string[];
  readonly remedy: string | undefined;
  readonly exit: ExitCode;

  constructor(init: PgstrapErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'PgstrapError';
    this.code = init.code;
    this.details = init.details ?? [];
    this.remedy = init.remedy;
    this.exit = init.exit;
  }
}

/** True for errors raised on purpose by pgstrap (as opposed to bugs). */
export function isPgstrapError(value: unknown): value is PgstrapError {
  return value instanceof PgstrapError;
}

/** The message of anything thrown, for wrapping foreign errors. */
export function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}

/**
 * The error for a step that failed in one database after committing changes in others: `what` failed in
 * `database` (rolled back there); `done` lists what other databases already committed.
 */
export function partialFailure(init: { code: string; what: string; database: string; done: string[]; remedy: string; cause: unknown }): PgstrapError {
  return new PgstrapError({
    code: init.code,
    message: `${init.what} in ${init.database} failed, so that database was left as it was: ${messageOf(init.cause)}`,
    details: init.done.length > 0 ? ['already done (committed):', ...init.done.map((c) => `  ${c}`)] : ['no other database was changed by this step'],
    remedy: init.remedy,
    exit: ExitCode.database,
    cause: init.cause,
  });
}
