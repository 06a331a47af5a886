/**
 * Whether a postgresql.conf value is the one a server runs with. pg_settings reports memory and time in the
 * setting's own unit (`16384` of `8kB` for 128MB), so both sides are brought to one scale before comparing.
 */
import { parseLibraryList } from '../server/conf.ts';
import type { ServerSetting } from './facts.ts';

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
