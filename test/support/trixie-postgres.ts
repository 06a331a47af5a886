/**
 * Debian 13 ("trixie")'s PostgreSQL 17 with its packaged extensions, as test/servers/trixie-postgres.mjs builds
 * it into a cached private prefix (.ci/run builds it before the tests; a test worker builds it on first use).
 */
import path from 'node:path';
import { run } from '../../scripts/server/process.ts';
import { REPO_ROOT } from './project.ts';

/** What the builder reports about the prefix it built or found. */
export interface TrixiePostgres {
  binDir: string;
  /** `postgres --version`, e.g. `postgres (PostgreSQL) 17.12 (Debian 17.12-0+deb13u1)`. */
  version: string;
  prefix: string;
  packages: Array<{ name: string; version: string }>;
}

let found: Promise<TrixiePostgres | { skip: string }> | undefined;

/** The trixie PostgreSQL 17 bin folder, or why it cannot be had here (so the test can say it skipped). */
export function trixiePostgres(): Promise<TrixiePostgres | { skip: string }> {
  found ??= (async () => {
    const script = path.join(REPO_ROOT, 'test/servers/trixie-postgres.mjs');
    const result = await run(process.execPath, [script], { reject: false, timeoutMs: 15 * 60_000 });
    if (result.exitCode !== 0) {
      const why = String(result.stderr).trim().split('\n').slice(-3).join(' / ') || `exit ${result.exitCode}`;
      return { skip: `Debian trixie's postgresql-17 could not be built (node test/servers/trixie-postgres.mjs: ${why})` };
    }
    const line = String(result.stdout).trim().split('\n').at(-1) ?? '';
    return JSON.parse(line) as TrixiePostgres;
  })();
  return found;
}
