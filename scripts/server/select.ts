/**
 * Chooses the engine. External only when asked explicitly (--url, PGSTRAP_URL, or engine: "external"):
 * the DATABASE_URL pgstrap exports for its own cluster must never redirect it.
 */
import type { ResolvedConfig, ResolvedDatabase, UrlSource } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import type { EngineChoice } from '../config/types.ts';
import { requireEmbeddedBinaries } from './embedded.ts';
import { Cluster } from './cluster.ts';
import { placeCluster, reachableBinaries } from './placement.ts';
import { getServerUser } from './server-user.ts';
import { findSystemBinaries, requireSystemBinaries } from './system.ts';
import { programAnswersFile } from './layout.ts';
import type { PostgresBinaries } from './binaries.ts';
import { readPassword, type ExternalTarget, type ManagedPlace, type Target } from './target.ts';
import { rememberUrlSecrets } from '../shared/secrets.ts';
import fs from 'node:fs';
import { readTlsSettings, tlsOptions } from './tls.ts';

/** What the command line and environment add to the config's choice. */
export interface EngineOverrides {
  engine?: EngineChoice | undefined;
  url?: string | undefined;
  /** The server without a pooler, for migrations (--direct-url; else PGSTRAP_DIRECT_URL), beside --url or PGSTRAP_URL. */
  directUrl?: string | undefined;
  /** A server the config names in `targets` (--target). */
  target?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The URL a config source gives: its own text, or the environment variable it names (which must be set). */
function urlFrom(source: UrlSource, what: string, env: NodeJS.ProcessEnv): string {
  if ('value' in source) return source.value;
  const value = env[source.env];
  if (!value) {
    throw new PgstrapError({
      code: 'engine.target-env-missing',
      message: `${what} is read from the environment variable ${source.env}, which is not set`,
      remedy: `Set ${source.env} to the server's URL (postgresql://user:password@host:5432/dbname), e.g. from your CI's secrets.`,
      exit: ExitCode.usage,
    });
  }
  rememberUrlSecrets(value);
  return value;
}

/** The external target `--target NAME` names in the config, with its direct URL for migrations if it has one. */
function namedTarget(config: ResolvedConfig, name: string, env: NodeJS.ProcessEnv): ExternalTarget {
  const declared = config.targets[name];
  if (!declared) {
    const known = Object.keys(config.targets);
    throw new PgstrapError({
      code: 'engine.unknown-target',
      message: `no target "${name}" in ${config.file ?? 'the config'}; ${known.length ? `targets: ${known.join(', ')}` : 'it names no targets'}`,
      remedy: known.length
        ? `Pass one of them: --target ${known[0]}.`
        : `Add targets: { ${name}: { url: { env: '${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_DATABASE_URL' } } } to the config (README.md#configuration).`,
      exit: ExitCode.usage,
    });
  }
  const url = urlFrom(declared.url, `target "${name}"'s url`, env);
  const via = 'env' in declared.url ? `, URL from ${declared.url.env}` : '';
  const target = externalTarget(config, url, `--target ${name}${via}`, env);
  if (declared.directUrl) withDirect(target, urlFrom(declared.directUrl, `target "${name}"'s directUrl`, env), `target "${name}"'s directUrl`, env);
  return target;
}

/** Gives `target` its direct URL for the migrations: the same databases, on the server itself. */
function withDirect(target: ExternalTarget, rawUrl: string, what: string, env: NodeJS.ProcessEnv): ExternalTarget {
  const direct = externalTarget(target.config, rawUrl, what, env, what);
  target.direct = { ...direct, databases: target.databases, mayCreateDatabases: target.mayCreateDatabases, pinned: true };
  return target;
}

/** The databases an external URL manages: the one it names, or all configured ones when it names none. */
export function externalDatabases(url: URL, configured: ResolvedDatabase[]): { databases: ResolvedDatabase[]; mayCreate: boolean } {
  const named = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (named === '') return { databases: configured, mayCreate: true };
  const match = configured.find((d) => d.name === named);
  // A staging database usually has its own name: it gets the first configured database's declaration.
  return { databases: [{ ...(match ?? configured[0]!), name: named }], mayCreate: false };
}

/** A postgres URL (its password remembered as a secret), or `engine.bad-url` naming where it came from. */
function parseUrl(rawUrl: string, what = 'the external server URL'): URL {
  rememberUrlSecrets(rawUrl);
  let url: URL;
  try {
    url = new URL(rawUrl);
    if (!/^postgres(ql)?:$/.test(url.protocol)) throw new Error('not a postgres URL');
  } catch {
    throw new PgstrapError({
      code: 'engine.bad-url',
      message: `${what} is not a postgres:// or postgresql:// URL`,
      remedy: 'Pass it as --url postgresql://user:password@host:5432/dbname (or PGSTRAP_URL).',
      exit: ExitCode.usage,
    });
  }
  return url;
}

function externalTarget(config: ResolvedConfig, rawUrl: string, choice: string, env: NodeJS.ProcessEnv, what?: string): ExternalTarget {
  const url = parseUrl(rawUrl, what);
  const { databases, mayCreate } = externalDatabases(url, config.databases);
  const tls = readTlsSettings(url, env);
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
  const answers = programAnswersFile(config.stateDir);
  if (engine === 'system') return { binaries: await requireSystemBinaries(config.postgresMajor, env, answers), choice: 'engine "system" in the config' };
  if (engine === 'embedded') return { binaries: requireEmbeddedBinaries(config.postgresMajor, config.projectDir), choice: 'engine "embedded" in the config' };
  const system = await findSystemBinaries(env, answers);
  if (system.found && system.found.major === config.postgresMajor) {
    return { binaries: system.found, choice: `auto: PostgreSQL ${system.found.version} found via ${system.found.origin}` };
  }
  const why = system.found
    ? `auto: the system PostgreSQL is ${system.found.version}, not ${config.postgresMajor}`
    : 'auto: no system PostgreSQL';
  return { binaries: requireEmbeddedBinaries(config.postgresMajor, config.projectDir), choice: `${why}, so the embedded one` };
}

/** The external target the overrides and the config ask for, or undefined for the project's own cluster. */
function externalChoice(config: ResolvedConfig, overrides: EngineOverrides, env: NodeJS.ProcessEnv): ExternalTarget | undefined {
  const engine = overrides.engine ?? config.engine;
  if (overrides.url && overrides.target) {
    throw new PgstrapError({ code: 'usage', message: '--url and --target both name a server', remedy: 'Pass one of them.', exit: ExitCode.usage });
  }
  if (overrides.target) return namedTarget(config, overrides.target, env);
  const direct = overrides.directUrl ?? env.PGSTRAP_DIRECT_URL;
  const byUrl = (raw: string, choice: string) => {
    const target = externalTarget(config, raw, choice, env);
    return direct ? withDirect(target, direct, overrides.directUrl ? '--direct-url' : 'PGSTRAP_DIRECT_URL', env) : target;
  };
  if (overrides.url) return byUrl(overrides.url, '--url');
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
    return byUrl(source, config.url ? 'url in the config' : 'PGSTRAP_URL');
  }
  // PGSTRAP_URL is the dedicated variable; an explicit --engine still wins over it.
  if (env.PGSTRAP_URL && overrides.engine === undefined) return byUrl(env.PGSTRAP_URL, 'PGSTRAP_URL');
  if (overrides.directUrl) {
    throw new PgstrapError({
      code: 'usage',
      message: '--direct-url is for a server reached by URL, and this command works on the project\'s own cluster',
      remedy: 'Pass --url (or --target) with it, or leave it out.',
      exit: ExitCode.usage,
    });
  }
  return undefined;
}

/**
 * Where the project's own cluster lives and who runs it, without the engine: all a client needs to reach it
 * (`env` prints the variables of a cluster whose binaries it never runs). The superuser's password is read
 * here, so that no error or repeated output of this run can show it.
 */
async function placeOf(config: ResolvedConfig): Promise<ManagedPlace> {
  const user = await getServerUser(config.runAs);
  const layout = await placeCluster(config, user);
  readPassword(layout);
  return { kind: 'place', layout, user, config, databases: config.databases };
}

/** The server a client of the project reaches: an external one, or the place of the project's own cluster. */
export async function selectPlace(config: ResolvedConfig, overrides: EngineOverrides = {}): Promise<ExternalTarget | ManagedPlace> {
  return externalChoice(config, overrides, overrides.env ?? process.env) ?? placeOf(config);
}

/** Resolves the target a command works on. */
export async function selectTarget(config: ResolvedConfig, overrides: EngineOverrides = {}): Promise<Target> {
  const env = overrides.env ?? process.env;
  const external = externalChoice(config, overrides, env);
  if (external) return external;
  const { binaries: found, choice } = await findBinaries(config, overrides.engine ?? config.engine, env);
  const { layout, user } = await placeOf(config);
  const binaries = await reachableBinaries(found, user, layout);
  const cluster = new Cluster(binaries, layout, user, config.superuser);
  return { kind: binaries.engine, binaries, cluster, layout, user, config, databases: config.databases, choice };
}
