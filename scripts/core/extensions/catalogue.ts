/**
 * The extension catalogue: one entry per extension a team is likely to declare, with what pgstrap
 * must know to build, enable and check it. Data only; facts checked against nixpkgs and upstream.
 */

/** What pgstrap knows about one extension. */
export interface CatalogueEntry {
  /** The `CREATE EXTENSION` name (or, for an output plugin, its library name). */
  name: string;
  /** One line: what teams use it for. */
  purpose: string;
  /** Attribute under `postgresql_17.pkgs` in nixpkgs; undefined for contrib (built into postgresql). */
  nixAttr: string | undefined;
  /** Part of PostgreSQL's contrib: every server (embedded too) has it. */
  contrib: boolean;
  /** `extension`: CREATE EXTENSION; `output-plugin`: a logical decoding plugin, checked with a slot. */
  kind: 'extension' | 'output-plugin';
  /** Library that must be in shared_preload_libraries, if any. */
  preload: string | undefined;
  /** Other settings it needs, e.g. { wal_level: 'logical' }. */
  settings: Record<string, string>;
  /** Extensions it depends on (CREATE EXTENSION ... CASCADE creates them). */
  requires: string[];
  /** It works in one database per cluster (the setting named here says which). */
  singleDatabaseSetting: string | undefined;
  /** Non-free licence in nixpkgs: allowed only by name, never by a blanket allowUnfree. */
  unfree: boolean;
  /** Why nixpkgs cannot provide it for PostgreSQL 17 (broken, removed), if so. */
  unavailable: string | undefined;
}

/** Every known extension, by CREATE EXTENSION name. Filled in by the extension issue. */
export const CATALOGUE: readonly CatalogueEntry[] = [];

/** The entry for `name`, or undefined for an extension pgstrap does not know (a team's own). */
export function findExtension(name: string): CatalogueEntry | undefined {
  return CATALOGUE.find((e) => e.name === name);
}
