/**
 * postgresql.conf settings: what the server knows (from `postgres --describe-config` or pg_settings),
 * the managed file pgstrap writes, and the plan between the two.
 */
import { quoteLiteral } from './identifiers.ts';

/** When a changed setting takes effect. */
export type SettingContext = 'internal' | 'postmaster' | 'sighup' | 'superuser-backend' | 'backend' | 'superuser' | 'user';

/** One parameter the server knows. */
export interface SettingDefinition {
  name: string;
  context: SettingContext;
  type: string;
  /** The built-in value (`--describe-config`'s fifth column), e.g. `pgoutput, test_decoding`. */
  default?: string;
}

/** The name of the managed file, included from postgresql.conf. */
export const MANAGED_CONF = 'pgstrap.conf';
/** The line initdb's postgresql.conf gets so that it reads the managed file last. */
export const INCLUDE_LINE = `include_if_exists = '${MANAGED_CONF}'\t# settings managed by pgstrap`;

/** Parses `postgres --describe-config` (tab-separated: name, context, group, type, ...). */
export function parseDescribeConfig(text: string): Map<string, SettingDefinition> {
  const result = new Map<string, SettingDefinition>();
  for (const line of text.split('\n')) {
    const [name, context, , type, value] = line.split('\t');
    if (name && context && type) result.set(name.toLowerCase(), { name, context: context as SettingContext, type, default: value ?? '' });
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

/** The settings a setting map names that the server does not know. */
export function unknownSettings(names: Iterable<string>, known: Map<string, SettingDefinition>): string[] {
  return [...names].filter((n) => !isCustomSetting(n) && !known.has(n.toLowerCase()));
}

/** Renders the managed file; keys keep their given order so the file diffs cleanly. */
export function renderManagedConf(settings: Record<string, string>): string {
  const lines = [
    '# Managed by pgstrap from extensions.config.ts: edit the config, not this file.',
    '# `npm run setup` rewrites it and reloads or restarts the server as needed.',
  ];
  for (const [key, value] of Object.entries(settings)) lines.push(`${key} = ${quoteLiteral(value)}`);
  return `${lines.join('\n')}\n`;
}

/** Reads back a file written by renderManagedConf. */
export function parseManagedConf(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*'((?:[^']|'')*)'\s*$/.exec(line);
    if (match) result[match[1]!] = match[2]!.replaceAll("''", "'");
  }
  return result;
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
