/**
 * Whether a postgresql.conf value is the one a server runs with. pg_settings reports memory and time in the
 * setting's own unit (`16384` of `8kB` for 128MB), so both sides are brought to one scale before comparing.
 */
import { parseLibraryList } from './conf.ts';
import { settingChangeWay, unreadableSetting, type RoleFacts } from './privileges.ts';

/** One server setting as the running server has it (pg_settings). */
export interface ServerSetting {
  name: string;
  /** pg_settings.setting (raw units), or current_setting() for custom settings. */
  setting: string | undefined;
  unit: string | undefined;
  vartype: string | undefined;
  pendingRestart: boolean;
  /** pg_settings.context (user, superuser, sighup, postmaster...): who may change it, and when it takes effect. */
  context?: string | undefined;
  /** The role may not read it (superuser-only, without pg_read_all_settings): `setting` is unknown, not absent. */
  hidden?: boolean | undefined;
}

const MEMORY: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** The size of one `unit` of pg_settings (`8kB`, `MB`, `ms`, `s`) in bytes or milliseconds. */
function unitScale(unit: string): { scale: number; table: Record<string, number> } | undefined {
  const match = /^(\d*)\s*([a-zA-Z]+)$/.exec(unit);
  if (!match) return undefined;
  const factor = match[1] ? Number(match[1]) : 1;
  const table = match[2]! in MEMORY ? MEMORY : match[2]! in TIME ? TIME : undefined;
  return table ? { scale: factor * table[match[2]!]!, table } : undefined;
}

const TRUE = new Set(['on', 'true', 'yes', '1', 't', 'y']);
const FALSE = new Set(['off', 'false', 'no', '0', 'f', 'n']);

/** A library list as a sorted set, so order and repeats do not count as a difference. */
function librarySet(value: string): string {
  return [...new Set(parseLibraryList(value))].sort().join(',');
}

/** True when `desired` (as written in the config) is what `actual` (from pg_settings) holds. */
export function settingMatches(desired: string, actual: ServerSetting): boolean {
  const have = actual.setting;
  if (have === undefined) return false;
  const want = desired.trim();
  if (want === have) return true;
  if (actual.vartype === 'bool') {
    const w = want.toLowerCase();
    const h = have.toLowerCase();
    return (TRUE.has(w) && TRUE.has(h)) || (FALSE.has(w) && FALSE.has(h));
  }
  if (actual.vartype === 'integer' || actual.vartype === 'real') {
    const scale = actual.unit ? unitScale(actual.unit) : undefined;
    const match = /^(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(want);
    if (!match) return false;
    const number = Number(match[1]);
    const suffix = match[2]!;
    if (!scale) return suffix === '' && number === Number(have);
    // A bare number is in the setting's own unit; a suffixed one is converted.
    const wantScaled = suffix === '' ? number * scale.scale : suffix in scale.table ? number * scale.table[suffix]! : NaN;
    return Math.abs(wantScaled - Number(have) * scale.scale) < 1e-6;
  }
  if (actual.name.toLowerCase().endsWith('_libraries')) return librarySet(want) === librarySet(have);
  return want.toLowerCase() === have.toLowerCase();
}

/** A raw pg_settings value in words as SHOW prints it: `4096` of `kB` is `4MB`. */
export function describeSettingValue(actual: ServerSetting): string {
  const have = actual.setting ?? '';
  const scale = actual.unit ? unitScale(actual.unit) : undefined;
  if (!scale || !/^-?\d+(\.\d+)?$/.test(have)) return have;
  const amount = Number(have) * scale.scale;
  const units = Object.entries(scale.table).sort(([, a], [, b]) => b - a);
  for (const [unit, size] of units) {
    if (amount !== 0 && Number.isInteger(amount / size) && Math.abs(amount) >= size) return `${amount / size}${unit}`;
  }
  return `${have}${actual.unit}`;
}

/** A config setting a server pgstrap does not run has otherwise, and how to change it from this role. */
export interface SettingDrift {
  name: string;
  want: string;
  /** As the server has it (SHOW's form), or undefined when unknown or unknown to the server. */
  have: string | undefined;
  /** One sentence: the values, and the statement or provider setting that changes it. */
  message: string;
}

/**
 * The config's `settings` against a server pgstrap does not run: one drift per setting it does not have as
 * configured (an unreadable one is unknown, said as such), each with the way to change it from `role`.
 */
export function planSettingDrift(desired: Readonly<Record<string, string>>, actual: readonly ServerSetting[], role: RoleFacts, databases: readonly string[]): SettingDrift[] {
  const byName = new Map(actual.map((s) => [s.name.toLowerCase(), s]));
  const drifts: SettingDrift[] = [];
  for (const [name, want] of Object.entries(desired)) {
    const row = byName.get(name.toLowerCase());
    if (row?.hidden) {
      drifts.push({ name, want, have: undefined, message: `${name}: the config says ${want}; ${unreadableSetting(role, name)}` });
      continue;
    }
    if (row?.setting === undefined) {
      drifts.push({ name, want, have: undefined, message: `${name}: the config says ${want}, but the server does not know this setting${name.includes('.') ? ' (its library is not loaded)' : ''}` });
      continue;
    }
    if (settingMatches(want, row) && !row.pendingRestart) continue;
    const have = describeSettingValue(row);
    const way = settingChangeWay(role, name, want, row.context, databases);
    drifts.push({ name, want, have, message: `${name} is ${have} on the server, ${want} in the config${row.pendingRestart ? ' (a change is pending a restart)' : ''}: ${way.how}` });
  }
  return drifts;
}

/** setup's one line about the drift on a server pgstrap does not run (a note: it changes no setting there). */
export function describeSettingDrift(drifts: readonly SettingDrift[]): string | undefined {
  if (drifts.length === 0) return undefined;
  return `settings differ from the config on this server (pgstrap changes no setting of a server it does not run): ${drifts.map((d) => d.message).join('; ')}`;
}
