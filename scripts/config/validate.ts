/**
 * Turns an untrusted config object into a ResolvedConfig at one boundary.
 * Every problem is collected and reported at once, each naming its key.
 */
import path from 'node:path';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { defaultPortFor } from './default-port.ts';
import { isPlainIdentifier, MAX_IDENTIFIER_BYTES } from '../shared/identifiers.ts';
import { extensionConfigProblems } from '../extensions/rules.ts';
import {
  DEFAULT_FALLBACK_RANDOM,
  DEFAULT_UUIDV7_GENERATOR,
  ENGINE_CHOICES,
  FALLBACK_RANDOM_CHOICES,
  UUIDV7_GENERATOR_CHOICES,
  type EngineChoice,
  type FallbackRandom,
  type MigrationsConfig,
  type ResolvedSeeds,
  type ResolvedConfig,
  type ResolvedDatabase,
  type ResolvedExtension,
  type ResolvedMigrations,
  type ResolvedTarget,
  type UrlSource,
  type Uuidv7Generator,
} from './types.ts';

/** Where the config came from, for resolving paths and naming the file in errors. */
export interface ConfigSource {
  file: string | undefined;
  projectDir: string;
}

export const DEFAULT_MAJOR = 17;
export const SUPPORTED_MAJORS = { min: 13, max: 18 } as const;

const TOP_LEVEL_KEYS = [
  'postgresMajor', 'engine', 'url', 'port', 'superuser', 'stateDir', 'dataDir', 'socketDir', 'runAs',
  'databases', 'extensions', 'settings', 'migrations', 'uuidv7', 'targets', 'seeds',
] as const;
const TARGET_KEYS = ['url', 'directUrl'] as const;
const EXTENSION_KEYS = ['name', 'required', 'databases', 'schema', 'version'] as const;
const DATABASE_KEYS = ['name', 'migrations', 'seeds'] as const;
const SEEDS_KEYS = ['directory'] as const;
const MIGRATION_KEYS = ['directory', 'builtIn', 'command', 'statusCommand'] as const;
const UUIDV7_KEYS = ['fallbackRandom', 'generator'] as const;
const RESERVED_DATABASES = new Set(['template0', 'template1']);
/** Settings pgstrap owns; a team sets them through the named config key instead. */
export const MANAGED_SETTINGS: Record<string, string> = {
  port: 'port',
  listen_addresses: '(always 127.0.0.1)',
  unix_socket_directories: 'socketDir',
  data_directory: 'dataDir',
  hba_file: '(managed by pgstrap)',
};

/** Collects problems while walking the object, so they can all be reported together. */
class Problems {
  readonly list: string[] = [];
  add(key: string, message: string): void {
    this.list.push(`${key}: ${message}`);
  }
}

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Edit distance counting a swap of neighbours as one edit, for "did you mean" on mistyped keys. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The allowed key closest to a mistyped one, if it is close enough to be what was meant. */
export function closestKey(key: string, allowed: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of allowed) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= (key.length < 4 ? 1 : 2) ? best.name : undefined;
}

function checkKeys(value: Dict, allowed: readonly string[], at: string, problems: Problems): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const where = at ? `${at}.${key}` : key;
      const near = closestKey(key, allowed);
      problems.add(where, near ? `unknown key (did you mean "${near}"?)` : `unknown key; allowed: ${allowed.join(', ')}`);
    }
  }
}

function optionalString(value: Dict, key: string, at: string, problems: Problems): string | undefined {
  const v = value[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) {
    problems.add(at ? `${at}.${key}` : key, `must be a non-empty string, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

function optionalBoolean(value: Dict, key: string, at: string, problems: Problems): boolean | undefined {
  const v = value[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') {
    problems.add(`${at}.${key}`, `must be true or false, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** A shell string (run by `sh -c`) or a [program, ...args] array, as the words to run. */
function resolveCommand(raw: unknown, at: string, problems: Problems): string[] | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' && raw.trim() !== '') return ['sh', '-c', raw];
  if (Array.isArray(raw) && raw.length > 0 && raw.every((c) => typeof c === 'string' && c !== '')) return [...(raw as string[])];
  problems.add(at, `must be a shell string or a non-empty [program, ...args] array, got ${describe(raw)}`);
  return undefined;
}

function resolveMigrations(
  raw: unknown,
  at: string,
  fallback: ResolvedMigrations,
  source: ConfigSource,
  problems: Problems,
): ResolvedMigrations {
  if (raw === undefined) return fallback;
  if (!isDict(raw)) {
    problems.add(at, `must be an object like { directory: 'migrations' }, got ${describe(raw)}`);
    return fallback;
  }
  checkKeys(raw, MIGRATION_KEYS, at, problems);
  const m = raw as MigrationsConfig & Dict;
  const directory = optionalString(m, 'directory', at, problems);
  const builtIn = optionalBoolean(m, 'builtIn', at, problems);
  const command = resolveCommand(m.command, `${at}.command`, problems) ?? fallback.command;
  const statusCommand = resolveCommand(m.statusCommand, `${at}.statusCommand`, problems) ?? fallback.statusCommand;
  if (statusCommand !== undefined && command === undefined) {
    problems.add(`${at}.statusCommand`, "reports on the app's own migrator: set migrations.command too, or remove it");
  }
  return {
    directory: directory === undefined ? fallback.directory : path.resolve(source.projectDir, directory),
    directoryKey: directory === undefined ? fallback.directoryKey : `${at}.directory`,
    builtIn: builtIn ?? fallback.builtIn,
    command,
    statusCommand,
  };
}

function resolveSeeds(raw: unknown, at: string, fallback: ResolvedSeeds, source: ConfigSource, problems: Problems): ResolvedSeeds {
  if (raw === undefined) return fallback;
  if (!isDict(raw)) {
    problems.add(at, `must be an object like { directory: 'seeds' }, got ${describe(raw)}`);
    return fallback;
  }
  checkKeys(raw, SEEDS_KEYS, at, problems);
  const directory = optionalString(raw, 'directory', at, problems);
  if (directory === undefined) return fallback;
  return { directory: path.resolve(source.projectDir, directory), directoryKey: `${at}.directory` };
}

function resolveUuidv7(raw: unknown, problems: Problems): ResolvedConfig['uuidv7'] {
  const resolved: ResolvedConfig['uuidv7'] = { fallbackRandom: DEFAULT_FALLBACK_RANDOM, generator: DEFAULT_UUIDV7_GENERATOR };
  if (raw === undefined) return resolved;
  if (!isDict(raw)) {
    problems.add('uuidv7', `must be an object like { fallbackRandom: 'strong' }, got ${describe(raw)}`);
    return resolved;
  }
  checkKeys(raw, UUIDV7_KEYS, 'uuidv7', problems);
  const random = raw.fallbackRandom;
  if (random !== undefined) {
    if ((FALLBACK_RANDOM_CHOICES as readonly unknown[]).includes(random)) resolved.fallbackRandom = random as FallbackRandom;
    else problems.add('uuidv7.fallbackRandom', `must be one of ${FALLBACK_RANDOM_CHOICES.map((c) => `'${c}'`).join(', ')}, got ${describe(random)}`);
  }
  const generator = raw.generator;
  if (generator !== undefined) {
    if ((UUIDV7_GENERATOR_CHOICES as readonly unknown[]).includes(generator)) resolved.generator = generator as Uuidv7Generator;
    else problems.add('uuidv7.generator', `must be one of ${UUIDV7_GENERATOR_CHOICES.map((c) => `'${c}'`).join(', ')}, got ${describe(generator)}`);
  }
  return resolved;
}

function checkDatabaseName(name: string, at: string, problems: Problems): void {
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    problems.add(at, `"${name}" is ${Buffer.byteLength(name, 'utf8')} bytes; PostgreSQL allows at most ${MAX_IDENTIFIER_BYTES}`);
  } else if (!isPlainIdentifier(name)) {
    problems.add(at, `"${name}" is not a valid identifier: use letters, digits and _, starting with a letter or _`);
  } else if (RESERVED_DATABASES.has(name)) {
    problems.add(at, `"${name}" is a template database PostgreSQL owns`);
  }
}

function resolveDatabases(raw: unknown, migrations: ResolvedMigrations, seeds: ResolvedSeeds, source: ConfigSource, problems: Problems): ResolvedDatabase[] {
  if (raw === undefined) return [{ name: 'app', migrations, seeds }];
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.add('databases', `must be a non-empty array of names or { name } objects, got ${describe(raw)}`);
    return [];
  }
  const seen = new Set<string>();
  const result: ResolvedDatabase[] = [];
  raw.forEach((entry: unknown, i) => {
    const at = `databases[${i}]`;
    let name: string | undefined;
    let dbMigrations = migrations;
    let dbSeeds = seeds;
    if (typeof entry === 'string') name = entry;
    else if (isDict(entry)) {
      checkKeys(entry, DATABASE_KEYS, at, problems);
      name = optionalString(entry, 'name', at, problems);
      if (name === undefined && entry.name === undefined) problems.add(`${at}.name`, 'is required');
      dbMigrations = resolveMigrations(entry.migrations, `${at}.migrations`, migrations, source, problems);
      dbSeeds = resolveSeeds(entry.seeds, `${at}.seeds`, seeds, source, problems);
    } else {
      problems.add(at, `must be a name or { name } object, got ${describe(entry)}`);
    }
    if (name === undefined) return;
    checkDatabaseName(name, typeof entry === 'string' ? at : `${at}.name`, problems);
    if (seen.has(name)) problems.add(at, `"${name}" is listed twice`);
    seen.add(name);
    result.push({ name, migrations: dbMigrations, seeds: dbSeeds });
  });
  return result;
}

function resolveExtensions(raw: unknown, databases: ResolvedDatabase[], problems: Problems): ResolvedExtension[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.add('extensions', `must be an array of names or { name, required, databases } objects, got ${describe(raw)}`);
    return [];
  }
  const all = databases.map((d) => d.name);
  const seen = new Set<string>();
  const result: ResolvedExtension[] = [];
  raw.forEach((entry: unknown, i) => {
    const at = `extensions[${i}]`;
    let ext: ResolvedExtension | undefined;
    if (typeof entry === 'string') {
      ext = { name: entry, required: true, databases: all, schema: undefined, version: undefined };
    } else if (isDict(entry)) {
      checkKeys(entry, EXTENSION_KEYS, at, problems);
      const name = optionalString(entry, 'name', at, problems);
      if (entry.name === undefined) problems.add(`${at}.name`, 'is required');
      let dbs = all;
      if (entry.databases !== undefined) {
        if (!Array.isArray(entry.databases) || entry.databases.length === 0 || !entry.databases.every((d) => typeof d === 'string')) {
          problems.add(`${at}.databases`, `must be a non-empty array of database names, got ${describe(entry.databases)}`);
        } else {
          dbs = entry.databases as string[];
          for (const d of dbs) {
            if (!all.includes(d)) problems.add(`${at}.databases`, `"${d}" is not one of the configured databases (${all.join(', ')})`);
          }
        }
      }
      if (name !== undefined) {
        ext = {
          name,
          required: optionalBoolean(entry, 'required', at, problems) ?? true,
          databases: dbs,
          schema: optionalString(entry, 'schema', at, problems),
          version: optionalString(entry, 'version', at, problems),
        };
      }
    } else {
      problems.add(at, `must be a name or { name } object, got ${describe(entry)}`);
    }
    if (!ext) return;
    if (ext.name.length === 0 || Buffer.byteLength(ext.name, 'utf8') > MAX_IDENTIFIER_BYTES) {
      problems.add(`${at}.name`, `must be 1 to ${MAX_IDENTIFIER_BYTES} bytes`);
      return;
    }
    if (seen.has(ext.name)) problems.add(at, `"${ext.name}" is listed twice`);
    seen.add(ext.name);
    result.push(ext);
  });
  return result;
}

function resolveSettings(raw: unknown, problems: Problems): Record<string, string> {
  if (raw === undefined) return {};
  if (!isDict(raw)) {
    problems.add('settings', `must be an object of postgresql.conf settings, got ${describe(raw)}`);
    return {};
  }
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    const at = `settings.${key}`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(key)) {
      problems.add(at, 'is not a valid setting name');
      continue;
    }
    const owner = MANAGED_SETTINGS[key.toLowerCase()];
    if (owner !== undefined) {
      problems.add(at, `is managed by pgstrap; set ${owner} instead`);
      continue;
    }
    if (typeof value === 'boolean') result[key] = value ? 'on' : 'off';
    else if (typeof value === 'number' && Number.isFinite(value)) result[key] = String(value);
    else if (typeof value === 'string' && !/[\n\r\0]/.test(value)) result[key] = value;
    else problems.add(at, `must be a string, number or boolean on one line, got ${describe(value)}`);
  }
  return result;
}

/** Why a URL written in the config would commit a secret, if it would. */
function committedPassword(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.password || parsed.searchParams.has('password') || parsed.searchParams.has('sslpassword')) return 'holds a password';
  } catch {
    return undefined;
  }
  return undefined;
}

/** A URL in the config: `{ env: 'NAME' }`, or a postgres URL without a password. */
function resolveUrlSource(raw: unknown, at: string, problems: Problems, envName: string): UrlSource | undefined {
  if (typeof raw === 'string') {
    if (!/^postgres(ql)?:\/\//.test(raw)) problems.add(at, 'must start with postgres:// or postgresql://, or be { env: "VARIABLE" }');
    else if (committedPassword(raw)) problems.add(at, `holds a password, which must not be committed: set ${envName} to the URL and write ${at.split('.').pop()}: { env: '${envName}' }`);
    else return { value: raw };
    return undefined;
  }
  if (isDict(raw)) {
    checkKeys(raw, ['env'], at, problems);
    if (typeof raw.env === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(raw.env)) return { env: raw.env };
    problems.add(`${at}.env`, `must name an environment variable, e.g. '${envName}', got ${describe(raw.env)}`);
    return undefined;
  }
  problems.add(at, `must be { env: '${envName}' } or a URL without a password, got ${describe(raw)}`);
  return undefined;
}

/** `targets`: names (letters, digits, - and _) to a URL source each. */
function resolveTargets(raw: unknown, problems: Problems): Record<string, ResolvedTarget> {
  const result: Record<string, ResolvedTarget> = {};
  if (raw === undefined) return result;
  if (!isDict(raw)) {
    problems.add('targets', `must be an object of names to { url: { env: 'VARIABLE' } }, got ${describe(raw)}`);
    return result;
  }
  for (const [name, value] of Object.entries(raw)) {
    const at = `targets.${name}`;
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) problems.add(at, 'a target name is letters, digits, - and _, starting with a letter');
    if (!isDict(value)) {
      problems.add(at, `must be { url: { env: 'VARIABLE' } }, got ${describe(value)}`);
      continue;
    }
    checkKeys(value, TARGET_KEYS, at, problems);
    const envBase = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    if (value.url === undefined) problems.add(`${at}.url`, `is required: { env: '${envBase}_DATABASE_URL' }`);
    const url = value.url === undefined ? undefined : resolveUrlSource(value.url, `${at}.url`, problems, `${envBase}_DATABASE_URL`);
    const directUrl = value.directUrl === undefined ? undefined : resolveUrlSource(value.directUrl, `${at}.directUrl`, problems, `${envBase}_DIRECT_URL`);
    if (url) result[name] = { name, url, directUrl };
  }
  return result;
}

/** Validates `raw` and applies defaults; throws one PgstrapError listing every problem. */
export function resolveConfig(raw: unknown, source: ConfigSource): ResolvedConfig {
  const problems = new Problems();
  const input: Dict = raw === undefined ? {} : isDict(raw) ? raw : {};
  if (raw !== undefined && !isDict(raw)) problems.add('(root)', `the config must export an object, got ${describe(raw)}`);
  checkKeys(input, TOP_LEVEL_KEYS, '', problems);

  let major = DEFAULT_MAJOR;
  if (input.postgresMajor !== undefined) {
    const v = input.postgresMajor;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < SUPPORTED_MAJORS.min || v > SUPPORTED_MAJORS.max) {
      problems.add('postgresMajor', `must be a whole number from ${SUPPORTED_MAJORS.min} to ${SUPPORTED_MAJORS.max}, got ${describe(v)}`);
    } else major = v;
  }

  let engine: EngineChoice = 'auto';
  if (input.engine !== undefined) {
    if (typeof input.engine === 'string' && (ENGINE_CHOICES as readonly string[]).includes(input.engine)) engine = input.engine as EngineChoice;
    else problems.add('engine', `must be one of ${ENGINE_CHOICES.join(', ')}, got ${describe(input.engine)}`);
  }

  const url = optionalString(input, 'url', '', problems);
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) problems.add('url', 'must start with postgres:// or postgresql://');
  if (url !== undefined && engine !== 'external') problems.add('url', 'is only used by engine: "external"; set engine too, or pass --url');
  if (url !== undefined && committedPassword(url)) problems.add('url', 'holds a password, which must not be committed: pass it as PGSTRAP_URL or --url, or name it in targets by an environment variable');
  const targets = resolveTargets(input.targets, problems);

  // Derived from the project's folder, so two projects run at once without a port configured (default-port.ts).
  let port = defaultPortFor(source.projectDir);
  if (input.port !== undefined) {
    const v = input.port;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
      problems.add('port', `must be a whole number from 1 to 65535, got ${describe(v)}`);
    } else port = v;
  }

  const superuser = optionalString(input, 'superuser', '', problems) ?? 'postgres';
  if (!isPlainIdentifier(superuser)) problems.add('superuser', `"${superuser}" is not a valid role name`);
  const runAs = optionalString(input, 'runAs', '', problems);
  if (runAs !== undefined && !/^[a-z_][a-z0-9_-]*\$?$/i.test(runAs)) problems.add('runAs', `"${runAs}" is not a valid user name`);

  const dir = (key: 'stateDir' | 'dataDir' | 'socketDir'): string | undefined => {
    const v = optionalString(input, key, '', problems);
    return v === undefined ? undefined : path.resolve(source.projectDir, v);
  };
  const stateDir = dir('stateDir') ?? path.join(source.projectDir, '.pgstrap');
  const dataDir = dir('dataDir');
  const socketDir = dir('socketDir');
  // pgstrap owns these folders outright (it makes the data folder 0700 for the server user): never the
  // project folder or one that holds it.
  const holdsProject = (d: string) => d === source.projectDir || source.projectDir.startsWith(d.endsWith(path.sep) ? d : `${d}${path.sep}`);
  for (const [key, d] of [['stateDir', stateDir], ['dataDir', dataDir]] as const) {
    if (d !== undefined && holdsProject(d)) problems.add(key, `${d} is the project folder or holds it; name a folder of its own, such as .pgstrap`);
  }
  if (dataDir !== undefined && dataDir === stateDir) problems.add('dataDir', 'must not be stateDir itself; leave it out to use <stateDir>/data');
  const defaultMigrations: ResolvedMigrations = {
    directory: path.join(source.projectDir, 'migrations'),
    builtIn: true,
    command: undefined,
    statusCommand: undefined,
  };
  const migrations = resolveMigrations(input.migrations, 'migrations', defaultMigrations, source, problems);
  const seeds = resolveSeeds(input.seeds, 'seeds', { directory: path.join(source.projectDir, 'seeds') }, source, problems);
  const databases = resolveDatabases(input.databases, migrations, seeds, source, problems);
  const extensions = resolveExtensions(input.extensions, databases, problems);
  const settings = resolveSettings(input.settings, problems);
  const uuidv7 = resolveUuidv7(input.uuidv7, problems);
  const rawExtensions: unknown[] = Array.isArray(input.extensions) ? input.extensions : [];
  const extensionKey = (name: string) => `extensions[${rawExtensions.findIndex((e) => e === name || (isDict(e) && e.name === name))}]`;
  for (const p of extensionConfigProblems(extensions, settings, extensionKey)) problems.add(p.key, p.message);

  if (problems.list.length > 0) {
    const where = source.file ?? 'the default config';
    throw new PgstrapError({
      code: 'config.invalid',
      message: `${where} has ${problems.list.length === 1 ? 'a problem' : `${problems.list.length} problems`}`,
      details: problems.list,
      remedy: `Fix ${problems.list.length === 1 ? 'it' : 'them'} in ${where}; README.md#configuration lists every key.`,
      exit: ExitCode.usage,
    });
  }
  return {
    file: source.file,
    projectDir: source.projectDir,
    postgresMajor: major,
    engine,
    url,
    port,
    portSource: input.port !== undefined ? 'config' : 'project-folder',
    superuser,
    stateDir,
    dataDir,
    socketDir,
    runAs,
    databases,
    extensions,
    settings,
    migrations,
    uuidv7,
    targets,
    seeds,
  };
}
