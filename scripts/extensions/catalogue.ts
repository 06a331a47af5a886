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
  /** Settings pgstrap writes on a cluster it manages so that the extension works there; not asked of other servers. */
  managedSettings?: Record<string, string>;
  /** It works in one database per cluster (the setting named here says which). */
  singleDatabaseSetting: string | undefined;
  /** Non-free licence in nixpkgs: allowed only by name, never by a blanket allowUnfree. */
  unfree: boolean;
  /** Why nixpkgs cannot provide it for PostgreSQL 17 (broken, removed), if so. */
  unavailable: string | undefined;
  /** The CREATE EXTENSION name nixpkgs' build installs, when it differs from `name` (pgx_ulid -> ulid). */
  nixInstallsAs?: string;
  /** A free nixpkgs build of the same extension, for an unfree one (timescaledb -> timescaledb-apache). */
  freeNixAttr?: string;
  /** What to use instead when it is unavailable (a CREATE EXTENSION name). */
  replacedBy?: string;
  /** A caveat worth a line in doctor and the setup summary. */
  note?: string;
}

/** Defaults for an entry: a third-party extension built by nixpkgs, nothing to preload. */
function entry(fields: Pick<CatalogueEntry, 'name' | 'purpose' | 'nixAttr'> & Partial<CatalogueEntry>): CatalogueEntry {
  return {
    contrib: false,
    kind: 'extension',
    preload: undefined,
    settings: {},
    requires: [],
    singleDatabaseSetting: undefined,
    unfree: false,
    unavailable: undefined,
    ...fields,
  };
}

/** A contrib extension: part of every PostgreSQL build, embedded included; no nixpkgs attribute. */
function contrib(name: string, purpose: string, extra: Partial<CatalogueEntry> = {}): CatalogueEntry {
  return entry({ name, purpose, nixAttr: undefined, contrib: true, ...extra });
}

/**
 * Every known extension, by CREATE EXTENSION name. nixAttr is the attribute under postgresql_17.pkgs
 * (checked against pkgs/servers/sql/postgresql/ext/ in nixpkgs); facts from each upstream.
 */
export const CATALOGUE: readonly CatalogueEntry[] = [
  entry({
    name: 'pg_uuidv7',
    purpose: 'uuid_generate_v7(): RFC 9562 version 7 UUIDs on PostgreSQL 13-17 (random, not ordered, inside a millisecond)',
    nixAttr: 'pg_uuidv7',
    note: 'it provides uuid_generate_v7(), not uuidv7(); pgstrap adds a uuidv7() that calls it (native from PostgreSQL 18)',
  }),
  entry({ name: 'vector', purpose: 'pgvector: vector type, distance operators and HNSW/IVFFlat indexes for embeddings', nixAttr: 'pgvector' }),
  entry({ name: 'pgmq', purpose: 'message queues in tables, SQS-like (send, read with visibility timeout, archive)', nixAttr: 'pgmq' }),
  entry({
    name: 'pgsodium',
    purpose: 'libsodium encryption, signatures and key management in SQL',
    nixAttr: 'pgsodium',
    note: "server-managed keys need shared_preload_libraries = 'pgsodium' and a getkey script (nixpkgs installs one): add it to settings if you use them",
  }),
  entry({
    name: 'ulid',
    purpose: 'ulid type and gen_ulid(): sortable 128-bit ids (pgx_ulid, as nixpkgs installs it)',
    nixAttr: 'pgx_ulid',
    // nixpkgs renames only the SQL and control files to ulid: the library stays pgx_ulid.
    note: "gen_monotonic_ulid() needs shared_preload_libraries = 'pgx_ulid' (nixpkgs renames only the SQL and control files to ulid; the library keeps its name)",
  }),
  entry({
    name: 'pgx_ulid',
    purpose: 'ulid type and gen_ulid(): sortable 128-bit ids (the name newer upstream releases use)',
    nixAttr: 'pgx_ulid',
    nixInstallsAs: 'ulid',
    note: "nixpkgs' build renames it to ulid (CREATE EXTENSION ulid): declare ulid when the server comes from the flake",
  }),
  entry({
    name: 'pg_net',
    purpose: 'asynchronous HTTP requests from SQL (net.http_get, net.http_post)',
    nixAttr: 'pg_net',
    preload: 'pg_net',
    singleDatabaseSetting: 'pg_net.database_name',
  }),
  entry({ name: 'h3', purpose: "Uber's H3 hexagonal geospatial index (h3-pg)", nixAttr: 'h3-pg' }),
  entry({ name: 'h3_postgis', purpose: 'H3 functions on PostGIS geometries (h3-pg)', nixAttr: 'h3-pg', requires: ['h3', 'postgis'] }),
  entry({ name: 'postgis', purpose: 'geometry and geography types, spatial indexes and functions', nixAttr: 'postgis' }),
  entry({
    name: 'timescaledb',
    purpose: 'hypertables: time-series partitioning, compression, continuous aggregates',
    nixAttr: 'timescaledb',
    preload: 'timescaledb',
    unfree: true,
    freeNixAttr: 'timescaledb-apache',
    note: 'the default nixpkgs build is under the Timescale License (unfree); timescaledb-apache is the Apache-2.0 build without compression and continuous aggregates',
  }),
  entry({
    name: 'timescaledb_toolkit',
    purpose: 'hyperfunctions for time-series analytics (approximate percentiles, time-weighted averages)',
    nixAttr: 'timescaledb_toolkit',
    unfree: true,
  }),
  entry({
    name: 'lantern',
    purpose: 'Lantern: HNSW vector indexes (lantern_hnsw) on real[] columns',
    nixAttr: 'lantern',
    unfree: true,
    // The package is postgresql-lantern: allowUnfreePredicate sees that name, not the attribute.
    note: 'nixpkgs builds it under the Business Source License 1.1 (unfree): the flake allows it by name',
  }),
  entry({
    name: 'vectors',
    purpose: 'pgvecto.rs: vector search (superseded by VectorChord)',
    nixAttr: 'pgvecto-rs',
    preload: 'vectors',
    unavailable: 'pgvecto.rs 0.3.0 is marked broken on PostgreSQL 17 in nixos-25.11, so Nix refuses to evaluate it (later nixpkgs removed it in favour of VectorChord)',
    replacedBy: 'vchord',
  }),
  entry({
    name: 'vchord',
    purpose: 'VectorChord: disk-friendly vector indexes on pgvector types, the successor of pgvecto.rs',
    nixAttr: 'vectorchord',
    preload: 'vchord',
    requires: ['vector'],
  }),
  entry({
    name: 'pg_cron',
    purpose: 'cron-style job scheduling inside the database',
    nixAttr: 'pg_cron',
    preload: 'pg_cron',
    singleDatabaseSetting: 'cron.database_name',
    // By default each job's worker connects over TCP to localhost (cron.job.nodename, fixed when the job is
    // scheduled), where the cluster asks for a password it does not have. Background workers need no
    // connection, so jobs run whatever the socket folder or port (relocated state, a changed port).
    managedSettings: { 'cron.use_background_workers': 'on' },
  }),
  entry({
    name: 'wal2json',
    purpose: 'logical decoding output plugin that emits changes as JSON (change data capture)',
    nixAttr: 'wal2json',
    kind: 'output-plugin',
    settings: { wal_level: 'logical' },
    note: 'not a CREATE EXTENSION: pgstrap checks it by creating and dropping a logical replication slot',
  }),
  contrib('pgcrypto', 'hashing, encryption and gen_random_bytes()'),
  contrib('pg_trgm', 'trigram similarity and indexes for LIKE/ILIKE and fuzzy search'),
  contrib('uuid-ossp', 'uuid_generate_v1/v3/v4/v5() (gen_random_uuid() is built in since PostgreSQL 13)'),
  contrib('citext', 'case-insensitive text type'),
  contrib('hstore', 'key/value pairs in one column'),
  contrib('pg_stat_statements', 'execution statistics of every statement', { preload: 'pg_stat_statements' }),
];

/** The entry for `name`, or undefined for an extension pgstrap does not know (a team's own). */
export function findExtension(name: string): CatalogueEntry | undefined {
  return CATALOGUE.find((e) => e.name === name);
}
