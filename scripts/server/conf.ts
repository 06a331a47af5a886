/**
 * postgresql.conf settings: what the server knows (from `postgres --describe-config` or pg_settings),
 * the managed file pgstrap writes, and the plan between the two.
 */
import { quoteLiteral } from '../shared/identifiers.ts';

/** When a changed setting takes effect. */
export type SettingContext = 'internal' | 'postmaster' | 'sighup' | 'superuser-backend' | 'backend' | 'superuser' | 'user';

/** One parameter the server knows. */
export interface SettingDefinition {
  name: string;
  context: SettingContext;
  type: string;
  /** The bounds of a numeric setting, in its base unit. */
  min?: string | undefined;
  max?: string | undefined;
  /** The built-in value (`--describe-config`'s fifth column), e.g. `pgoutput, test_decoding`. */
  default?: string;
}

/** The name of the managed file, included from postgresql.conf. */
export const MANAGED_CONF = 'pgstrap.conf';
/** The line initdb's postgresql.conf gets so that it reads the managed file last. */
export const INCLUDE_LINE = `include_if_exists = '${MANAGED_CONF}'\t# settings managed by pgstrap`;

/** Parses `postgres --describe-config` (tab-separated: name, context, group, type, reset, min, max, ...). */
export function parseDescribeConfig(text: string): Map<string, SettingDefinition> {
  const result = new Map<string, SettingDefinition>();
  for (const line of text.split('\n')) {
    const [name, context, , type, value, min, max] = line.split('\t');
    if (name && context && type) result.set(name.toLowerCase(), { name, context: context as SettingContext, type, default: value ?? '', min: min || undefined, max: max || undefined });
  }
  return result;
}

/** True when a change to a setting of this context needs a server restart. */
export function needsRestart(context: SettingContext | undefined): boolean {
  return context === 'postmaster' || context === 'internal';
}

/** Custom (extension) settings have a dot in their name and exist only once their library is loaded. */
export function isCustomSetting(name: string): boolean {
  return name.includes('.');
}

/** Words of postgresql.conf that read other files rather than set something: never a setting pgstrap writes. */
const CONF_DIRECTIVES = new Set(['include', 'include_dir', 'include_if_exists']);

/** The names among `names` that are postgresql.conf directives (include...), not settings. */
export function directiveNames(names: Iterable<string>): string[] {
  return [...names].filter((n) => CONF_DIRECTIVES.has(n.toLowerCase()));
}

/**
 * Quotes a value as postgresql.conf's lexer reads it: backslash escapes are live there (`'C:\'` would
 * swallow its closing quote) and a raw newline ends the line, so both are escaped, as is the quote.
 */
export function quoteConfValue(value: string): string {
  if (value.includes('\0')) throw new Error('a setting value cannot contain a NUL byte');
  const escaped = value.replace(/[\\'\n\r\t\b\f]/g, (c) => CONF_ESCAPES[c]!);
  return `'${escaped}'`;
}

const CONF_ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "''", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
const CONF_UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** The value of a quoted postgresql.conf string, decoded as the server's GUC_scanstr does. */
function unquoteConfValue(body: string): string {
  return body.replace(/\\([0-7]{1,3}|[^])|''/g, (match, escape: string | undefined) => {
    if (escape === undefined) return "'";
    if (/^[0-7]/.test(escape)) return String.fromCharCode(parseInt(escape, 8));
    return CONF_UNESCAPES[escape] ?? escape;
  });
}

/** Renders the managed file; keys keep their given order so the file diffs cleanly. */
export function renderManagedConf(settings: Record<string, string>): string {
  const lines = [
    '# Managed by pgstrap from extensions.config.ts: edit the config, not this file.',
    '# `npm run setup` rewrites it and reloads or restarts the server as needed.',
  ];
  for (const [key, value] of Object.entries(settings)) lines.push(`${key} = ${quoteConfValue(value)}`);
  return `${lines.join('\n')}\n`;
}

/** Reads back a file written by renderManagedConf. */
export function parseManagedConf(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*'((?:[^'\\\n]|\\.|'')*)'\s*$/.exec(line);
    if (match) result[match[1]!] = unquoteConfValue(match[2]!);
  }
  return result;
}

/** The setting that lists libraries loaded at server start. */
export const PRELOAD_SETTING = 'shared_preload_libraries';

/**
 * The setting that lists the libraries allowed as logical decoding output plugins (newer minor releases:
 * 15.20, 17.12; the server refuses a slot with any other plugin). An older server does not know it and
 * refuses to start when a file names it.
 */
export const OUTPUT_PLUGIN_SETTING = 'output_plugin_libraries';

/** Splits a shared_preload_libraries value (`'a, "b"'`) into library names. */
export function parseLibraryList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((part) => part.trim().replace(/^"(.*)"$/, '$1'))
    .filter((part) => part !== '');
}

/** Settings whose libraries the postmaster loads at start: one that is missing stops the server from starting. */
export const START_LIBRARY_SETTINGS = [PRELOAD_SETTING] as const;

/**
 * The library names of a preload list (`'pg_cron, "$libdir/pg_stat_statements"'` gives pg_cron and
 * pg_stat_statements); a path outside $libdir is left as written, to be looked up as a file.
 */
export function preloadLibraryNames(value: string): string[] {
  return parseLibraryList(value)
    .map((entry) => entry.replace(/^\$libdir\//, ''))
    .filter((entry) => entry !== '')
    .map((entry) => (entry.includes('/') ? entry : entry.replace(/\.(so|dylib)$/, '')));
}

/** One setting the server refused when it parsed a candidate managed file. */
export interface SettingProblem {
  /** The setting it names, as written in the file (undefined when the server named none). */
  name: string | undefined;
  /** The server's words, with their HINT or DETAIL lines, without the temporary file's name. */
  message: string;
}

/**
 * Reads what `postgres -C` logged on refusing a configuration file: one problem per LOG line, with the
 * HINT and DETAIL lines under it; the closing FATAL ("contains errors") and the note on a missing
 * postgresql.auto.conf say nothing about a setting.
 */
export function parseConfigCheck(stderr: string, names: Iterable<string>): SettingProblem[] {
  const byLower = new Map([...names].map((n) => [n.toLowerCase(), n]));
  const problems: SettingProblem[] = [];
  for (const line of stderr.split('\n')) {
    const match = /\b(LOG|WARNING|ERROR|FATAL|HINT|DETAIL):\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, level, text] = match as unknown as [string, string, string];
    if (/^skipping missing configuration file/.test(text) || /^configuration file ".*" contains errors/.test(text)) continue;
    const clean = text.replace(/ in file "[^"]*" line \d+/, '');
    if ((level === 'HINT' || level === 'DETAIL') && problems.length > 0) {
      problems.at(-1)!.message += ` (${clean.replace(/\.$/, '')})`;
      continue;
    }
    const named = /parameter "([^"]+)"/.exec(clean)?.[1];
    problems.push({ name: named === undefined ? undefined : (byLower.get(named.toLowerCase()) ?? named), message: clean });
  }
  return problems;
}

/** What the server accepts for a setting, from its `--describe-config` line. */
export function acceptedValues(definition: SettingDefinition | undefined): string | undefined {
  if (!definition) return undefined;
  const range = definition.min !== undefined && definition.max !== undefined ? ` from ${definition.min} to ${definition.max}` : '';
  switch (definition.type) {
    case 'BOOLEAN':
      return 'on or off (true/false, yes/no, 1/0)';
    case 'INTEGER':
      return `an integer${range} (in its base unit; a memory or time setting also takes a unit, as in '64MB' or '30s')`;
    case 'REAL':
      return `a number${range}`;
    case 'ENUM':
      return 'one of the values the server lists';
    case 'STRING':
      return 'a string';
    default:
      return undefined;
  }
}

/** One setting that differs between the managed file and what the config wants. */
export interface SettingChange {
  name: string;
  from: string | undefined;
  to: string | undefined;
  restart: boolean;
}

/** What must change in the managed file, and whether the server must restart for it. */
export interface SettingsPlan {
  changes: SettingChange[];
  restart: boolean;
}

/** Compares the file's settings with the desired ones. */
export function planSettings(
  current: Record<string, string>,
  desired: Record<string, string>,
  known: Map<string, SettingDefinition>,
): SettingsPlan {
  const changes: SettingChange[] = [];
  const names = new Set([...Object.keys(current), ...Object.keys(desired)]);
  for (const name of names) {
    const from = current[name];
    const to = desired[name];
    if (from === to) continue;
    // A custom setting's library may read it only at start-up (e.g. cron.database_name), so restart to be sure.
    const restart = isCustomSetting(name) || needsRestart(known.get(name.toLowerCase())?.context);
    changes.push({ name, from, to, restart });
  }
  return { changes, restart: changes.some((c) => c.restart) };
}

/** A human line for one change, e.g. `shared_preload_libraries: '' -> 'pg_cron' (restart)`. */
export function describeSettingChange(change: SettingChange): string {
  const show = (v: string | undefined) => (v === undefined ? '(unset)' : quoteLiteral(v));
  return `${change.name}: ${show(change.from)} -> ${show(change.to)}${change.restart ? ' (needs a restart)' : ' (reload)'}`;
}

/** Settings pgstrap always writes: where the server listens (`hosts`: the loopback addresses, server/port.ts loopbackHosts). */
export function listenSettings(port: number, socketDir: string, hosts: readonly string[]): Record<string, string> {
  return { port: String(port), listen_addresses: hosts.join(','), unix_socket_directories: socketDir };
}
