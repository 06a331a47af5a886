/**
 * Chooses the engine. External only when asked explicitly (--url, PGSTRAP_URL, or engine: "external"):
 * the DATABASE_URL pgstrap exports for its own cluster must never redirect it.
 */
import type { ResolvedConfig, ResolvedDatabase } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import type { EngineChoice } from '../config/types.ts';
import { requireEmbeddedBinaries } from './embedded.ts';
import { Cluster } from './cluster.ts';
import { placeCluster, reachableBinaries } from './placement.ts';
import { getServerUser } from './server-user.ts';
import { findSystemBinaries, requireSystemBinaries } from './system.ts';
import type { PostgresBinaries } from './binaries.ts';
import { readPassword, type ExternalTarget, type ManagedTarget, type Target } from './target.ts';
import { rememberUrlSecrets } from '../shared/secrets.ts';
import fs from 'node:fs';
import { readTlsSettings, tlsOptions } from './tls.ts';

/** What the command line and environment add to the config's choice. */
export interface EngineOverrides {
  engine?: EngineChoice | undefined;
  url?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The databases an external URL manages: the one it names, or all configured ones when it names none. */
export function externalDatabases(url: URL, configured: ResolvedDatabase[]): { databases: ResolvedDatabase[]; mayCreate: boolean } {
  const named = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (named === '') return { databases: configured, mayCreate: true };
  const match = configured.find((d) => d.name === named);
  // A staging database usually has its own name: it gets the first configured database's declaration.
  return { databases: [{ ...(match ?? configured[0]!), name: named }], mayCreate: false };
}

function externalTarget(config: ResolvedConfig, rawUrl: string, choice: string): ExternalTarget {
  let url: URL;
  try {
    url = new URL(rawUrl);
    if (!/^postgres(ql)?:$/.test(url.protocol)) throw new Error('not a postgres URL');
  } catch {
    throw new PgstrapError({
      code: 'engine.bad-url',
      message: 'the external server URL is not a postgres:// or postgresql:// URL',
      remedy: 'Pass it as --url postgresql://user:password@host:5432/dbname (or PGSTRAP_URL).',
      exit: ExitCode.usage,
    });
  }
  rememberUrlSecrets(url);
  const { databases, mayCreate } = externalDatabases(url, config.databases);
  const tls = readTlsSettings(url);
  const ssl = tls ? tlsOptions(tls, readTlsFile) : undefined;
  return { kind: 'external', url, config, databases, mayCreateDatabases: mayCreate, choice, tls, ssl };
}

/** A certificate or key file the URL names; a missing one is an error naming the parameter (never its content). */
function readTlsFile(file: string, param: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new PgstrapError({
      code: 'tls.file-unreadable',
      message: `${param}=${file} in the server URL cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      remedy: `Give ${param} the path of a readable PEM file (relative paths are from the folder you run pgstrap in).`,
      exit: ExitCode.usage,
    });
  }
}

async function findBinaries(config: ResolvedConfig, engine: EngineChoice, env: NodeJS.ProcessEnv): Promise<{ binaries: PostgresBinaries; choice: string }> {
  if (engine === 'system') return { binaries: await requireSystemBinaries(config.postgresMajor, env), choice: 'engine "system" in the config' };
  if (engine === 'embedded') return { binaries: requireEmbeddedBinaries(config.postgresMajor, config.projectDir), choice: 'engine "embedded" in the config' };
  const system = await findSystemBinaries(env);
  if (system.found && system.found.major === config.postgresMajor) {
    return { binaries: system.found, choice: `auto: PostgreSQL ${system.found.version} found via ${system.found.origin}` };
  }
  const why = system.found
    ? `auto: the system PostgreSQL is ${system.found.version}, not ${config.postgresMajor}`
    : 'auto: no system PostgreSQL';
  return { binaries: requireEmbeddedBinaries(config.postgresMajor, config.projectDir), choice: `${why}, so the embedded one` };
}

/** Resolves the target a command works on. */
export async function selectTarget(config: ResolvedConfig, overrides: EngineOverrides = {}): Promise<Target> {
  const env = overrides.env ?? process.env;
  const engine = overrides.engine ?? config.engine;
  if (overrides.url) return externalTarget(config, overrides.url, '--url');
  if (engine === 'external') {
    const source = config.url ?? env.PGSTRAP_URL;
    if (!source) {
      throw new PgstrapError({
        code: 'engine.url-missing',
        message: 'engine "external" needs a server URL',
        remedy: 'Pass --url postgresql://..., set PGSTRAP_URL, or set url in the config.',
        exit: ExitCode.usage,
      });
    }
    return externalTarget(config, source, config.url ? 'url in the config' : 'PGSTRAP_URL');
  }
  // PGSTRAP_URL is the dedicated variable; an explicit --engine still wins over it.
  if (env.PGSTRAP_URL && overrides.engine === undefined) return externalTarget(config, env.PGSTRAP_URL, 'PGSTRAP_URL');
  const { binaries: found, choice } = await findBinaries(config, engine, env);
  const user = await getServerUser(config.runAs);
  const layout = await placeCluster(config, user);
  const binaries = await reachableBinaries(found, user, layout);
  const cluster = new Cluster(binaries, layout, user, config.superuser);
  const managed: ManagedTarget = {
    kind: binaries.engine,
    binaries,
    cluster,
    layout,
    user,
    config,
    databases: config.databases,
    choice,
  };
  // Known from the start, so that no error or repeated output of this run can show it.
  readPassword(layout);
  return managed;
}
