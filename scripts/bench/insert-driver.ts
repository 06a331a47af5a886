/**
 * Single-row insert throughput: a few concurrent clients, each inserting one row per transaction for a
 * fixed time. Driven from Node with pg (always available), or by pgbench where its binary exists.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePgbenchTransactions, pgbenchScript } from './pgbench.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import type { ConnectionTarget } from '../server/connection.ts';
import { run } from '../server/process.ts';
import type { BenchSession } from './session.ts';

/** What a driver reports: transactions committed in the window. */
export interface DriverResult {
  transactions: number;
  seconds: number;
}

/** Runs `sql` (one parameter: a payload) in `clients` concurrent loops for `seconds`. */
export async function nodeInserts(session: BenchSession, sql: string, clients: number, seconds: number): Promise<DriverResult> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const counts = await Promise.all(
    Array.from({ length: clients }, (_, worker) =>
      session.withClient(async (client) => {
        let n = 0;
        // A named statement is parsed once, as an application's prepared insert would be.
        const statement = { name: `bench_insert_${worker}`, text: sql, values: [''] };
        while (performance.now() < deadline) {
          statement.values[0] = `w${worker}-${n}`;
          await client.query(statement);
          n += 1;
        }
        return n;
      }),
    ),
  );
  return { transactions: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - started) / 1000 };
}

/** The pgbench binary to use: PGBENCH, the server's bin folder, PATH, or Debian's versioned folders. */
export function findPgbench(binDir: string | undefined, env = process.env): string | undefined {
  const candidates = [env.PGBENCH, binDir && path.join(binDir, 'pgbench')];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'pgbench'));
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const majors = fs.readdirSync(debian).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    for (const major of majors) candidates.push(path.join(debian, major, 'bin', 'pgbench'));
  }
  return candidates.find((c): c is string => Boolean(c) && fs.existsSync(c!));
}

/** libpq connection arguments for pgbench, from the same target pg connects to. */
function pgbenchConnection(connection: ConnectionTarget): { args: string[]; env: Record<string, string> } {
  const env: Record<string, string> = connection.application_name ? { PGAPPNAME: connection.application_name } : {};
  if (connection.connectionString) return { args: [connection.connectionString], env };
  const args = ['-h', String(connection.host), '-p', String(connection.port), '-U', String(connection.user), String(connection.database)];
  if (typeof connection.password === 'string') env.PGPASSWORD = connection.password;
  return { args, env };
}

/** Runs pgbench with a one-statement script for `seconds` (whole seconds: pgbench -T takes no fraction). */
export async function pgbenchInserts(pgbench: string, connection: ConnectionTarget, sql: string, clients: number, seconds: number): Promise<DriverResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-pgbench-'));
  try {
    const script = path.join(dir, 'insert.sql');
    fs.writeFileSync(script, pgbenchScript(sql));
    const { args, env } = pgbenchConnection(connection);
    const jobs = Math.max(1, Math.min(clients, os.availableParallelism()));
    const result = await run(pgbench, ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(jobs), '-T', String(seconds), '-f', script, ...args], {
      env: { ...process.env, ...env },
      reject: false,
      timeoutMs: (seconds + 60) * 1000,
    });
    const transactions = parsePgbenchTransactions(String(result.stdout));
    if (result.exitCode !== 0 || transactions === undefined) {
      throw new PgstrapError({
        code: 'bench.pgbench-failed',
        message: `pgbench exited ${result.exitCode}`,
        details: String(result.stderr).trim().split('\n').slice(-5),
        remedy: 'Run the bench with --driver node to drive the inserts from Node instead.',
        exit: ExitCode.database,
      });
    }
    return { transactions, seconds };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
