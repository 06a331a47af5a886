/** A pipeline step: observes the server, plans the difference, applies it, and says what it did. */
import type pg from 'pg';
import type { ResolvedConfig } from '../config/types.ts';
import type { StepOutcome, StepReport } from './report.ts';
import { withClient, type Sessions } from '../server/connection.ts';
import { connectionFor, type Target } from '../server/target.ts';

/** What every step of a run shares. */
export interface RunContext {
  config: ResolvedConfig;
  target: Target;
  /** Reports of the steps done so far. */
  reports: StepReport[];
  /** Writes one line of progress under the running step. */
  log: (line: string) => void;
  /** One open connection per database, shared by the steps of the run (runSteps provides it). */
  sessions?: Sessions | undefined;
}

/** Runs `fn` on the run's session of `database`, or on a connection of its own when the run has none. */
export function withSession<T>(ctx: Pick<RunContext, 'target' | 'sessions'>, database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return ctx.sessions ? ctx.sessions.with(database, fn) : withClient(connectionFor(ctx.target, database), fn);
}

/** One step of `npm run setup`. */
export interface Step {
  id: string;
  /** A sentence in the imperative, e.g. "Create databases". */
  title: string;
  /** A reason to skip this step on this target, or undefined to run it. */
  skip?(ctx: RunContext): string | undefined;
  run(ctx: RunContext): Promise<StepOutcome>;
}
