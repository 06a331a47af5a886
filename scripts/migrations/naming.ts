/**
 * Migration file names: `<version>_<name>.sql`, where the version is digits (a UTC timestamp from
 * `migrate:new`, so two branches do not pick the same number) and orders the files.
 */

/** The version and name a file name carries. */
export interface MigrationName {
  version: string;
  name: string;
  fileName: string;
}

const FILE_NAME = /^(\d+)_(.+)\.sql$/;

/** Parses `20251025000040_create_llm_requests.sql`; undefined for a name without a version. */
export function parseMigrationFileName(fileName: string): MigrationName | undefined {
  const match = FILE_NAME.exec(fileName);
  return match ? { version: match[1]!, name: match[2]!, fileName } : undefined;
}

/** Orders versions as numbers (so `9` precedes `10`), then as text. */
export function compareVersions(a: string, b: string): number {
  const diff = BigInt(a) - BigInt(b);
  if (diff !== 0n) return diff < 0n ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when two versions denote the same number (`001` and `1`), which would make the order ambiguous. */
export function sameVersion(a: string, b: string): boolean {
  return BigInt(a) === BigInt(b);
}

/** A UTC timestamp `YYYYMMDDHHMMSS`. */
export function timestampVersion(now: Date): string {
  return now.toISOString().replace(/\D/g, '').slice(0, 14);
}

/** The version for a new file: the timestamp, or one past the highest existing version when that is later. */
export function nextVersion(now: Date, existing: readonly string[]): string {
  const stamp = timestampVersion(now);
  const highest = existing.reduce<bigint>((max, v) => (BigInt(v) > max ? BigInt(v) : max), -1n);
  return BigInt(stamp) > highest ? stamp : String(highest + 1n);
}

/** Turns `Add users table` into `add_users_table`; empty when nothing usable is left. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 100);
}
