/** Per-database checks (exists, extensions, uuidv7(), migrations) and the External server checks. */
import type { ResolvedConfig } from '../config/types.ts';
import { findExtension } from '../extensions/catalogue.ts';
import { driftDetected } from '../migrations/errors.ts';
import type { DatabaseFacts, ExtensionFact, MigrationFact, ServerFacts, Uuidv7Fact } from './facts.ts';
import { check, databaseGroup, type Check } from './model.ts';

/** RFC 9562: version nibble 7, variant bits 10. */
export function isUuidv7(text: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(text);
}

/** What to do about an extension the server lacks: the flake's attribute, or marking it optional. */
function missingExtensionFix(ext: ExtensionFact): string {
  const entry = findExtension(ext.name);
  const orOptional = ext.required ? '; or mark it optional (required: false) in the config' : '';
  if (entry?.unavailable) return `${entry.unavailable}; remove it from the config${orOptional}`;
  if (entry?.nixAttr) return `nix develop (its PostgreSQL is built with ${entry.nixAttr})${orOptional}`;
  return `Install ${ext.name} into this server's PostgreSQL${orOptional}`;
}

function extensionCheck(db: string, ext: ExtensionFact): Check {
  const id = `db.${db}.extension.${ext.name}`;
  const group = databaseGroup(db);
  const bad = ext.required ? 'fail' : 'warn';
  const label = ext.required ? ext.name : `${ext.name} (optional)`;
  if (ext.installedVersion !== undefined) {
    if (ext.wantedVersion !== undefined && ext.wantedVersion !== ext.installedVersion) {
      const reachable = ext.versions.includes(ext.wantedVersion);
      return check(id, group, bad, `${label} is at ${ext.installedVersion}, pinned to ${ext.wantedVersion}${reachable ? '' : ' (which this server does not offer)'}`, {
        fix: reachable ? 'npm run setup' : `Pin a version the server offers (${ext.versions.join(', ')}) or upgrade the extension's package`,
        repair: reachable ? 'extensions' : undefined,
      });
    }
    const schema = ext.wantedSchema !== undefined && ext.installedSchema !== ext.wantedSchema ? `, in schema ${ext.installedSchema} (the config says ${ext.wantedSchema})` : '';
    return check(id, group, schema ? 'warn' : 'ok', `${label} ${ext.installedVersion} installed${schema}`, {
      fix: schema ? `ALTER EXTENSION ${ext.name} SET SCHEMA ${ext.wantedSchema} (if the extension allows it), or change schema in the config` : undefined,
    });
  }
  if (!ext.available) return check(id, group, bad, `${label} is not available on this server`, { fix: missingExtensionFix(ext) });
  if (ext.wantedVersion !== undefined && !ext.versions.includes(ext.wantedVersion)) {
    return check(id, group, bad, `${label} is not installed, and the server offers ${ext.versions.join(', ')}, not the pinned ${ext.wantedVersion}`, {
      fix: 'Pin a version this server offers, or remove version from the config',
    });
  }
  return check(id, group, bad, `${label} is available (${ext.defaultVersion}) but not installed`, { fix: 'npm run setup', repair: 'extensions' });
}

function uuidv7Check(db: string, fact: Uuidv7Fact): Check {
  const id = `db.${db}.uuidv7`;
  const group = databaseGroup(db);
  const via = fact.strategy ? ` via ${fact.strategy}` : '';
  if (fact.sample === undefined) {
    return check(id, group, 'fail', `uuidv7() does not work: ${fact.error ?? 'no result'}`, { fix: 'npm run setup', repair: 'uuidv7' });
  }
  const wrong = fact.sample.filter((u) => !isUuidv7(u));
  if (wrong.length > 0) {
    return check(id, group, 'fail', `uuidv7()${via} returned ${wrong[0]}, not a version-7 UUID`, { fix: 'npm run setup', repair: 'uuidv7' });
  }
  if (new Set(fact.sample).size !== fact.sample.length) return check(id, group, 'fail', `uuidv7()${via} returned the same id twice`, { fix: 'npm run verify' });
  if (!fact.strategy) return check(id, group, 'warn', 'uuidv7() returns version-7 ids, but setup recorded no strategy for it', { fix: 'npm run setup', repair: 'uuidv7' });
  return check(id, group, 'ok', `uuidv7()${via}: returns version-7 ids`);
}

function migrationsCheck(db: string, fact: MigrationFact): Check {
  const id = `db.${db}.migrations`;
  const group = databaseGroup(db);
  if (fact.error !== undefined) return check(id, group, 'warn', `cannot read the migration status: ${fact.error}`, { fix: 'npm run migrate:status' });
  if (!fact.builtIn) return check(id, group, 'ok', "handed to the app's own migrator (migrations.command), which doctor cannot read");
  if (fact.drifted.length > 0) {
    // The runner's own error says how to restore or accept each drift; doctor shows the same words.
    const error = driftDetected(db, fact.drifted);
    return check(id, group, 'fail', `${fact.drifted.length} drifted: applied, then edited, removed or stopped half way`, { details: error.details, fix: error.remedy });
  }
  if (fact.pending.length > 0) {
    return check(id, group, 'warn', `${fact.pending.length} pending: ${fact.pending.slice(0, 3).join(', ')}${fact.pending.length > 3 ? ', ...' : ''}`, {
      fix: 'npm run migrate',
      repair: 'migrations',
    });
  }
  return check(id, group, 'ok', fact.applied === 0 ? 'no migrations' : `${fact.applied} applied, none pending`);
}

/** The checks of one database. */
export function databaseChecks(db: DatabaseFacts, mayCreate: boolean): Check[] {
  const group = databaseGroup(db.name);
  const id = `db.${db.name}.exists`;
  if (!db.connection.ok) {
    const missing = db.connection.sqlState === '3D000';
    return [
      check(id, group, 'fail', missing ? 'does not exist' : `cannot connect: ${db.connection.error}`, {
        fix: missing ? (mayCreate ? 'npm run setup' : 'Create it on the server (the URL names it, so pgstrap does not)') : 'npm run db:status',
        repair: missing && mayCreate ? 'databases' : undefined,
      }),
    ];
  }
  const checks = [check(id, group, 'ok', 'exists')];
  for (const ext of db.extensions) checks.push(extensionCheck(db.name, ext));
  if (db.uuidv7) checks.push(uuidv7Check(db.name, db.uuidv7));
  if (db.migrations) checks.push(migrationsCheck(db.name, db.migrations));
  return checks;
}

/** Which uuidv7() strategy a server would get: native on 18+, pg_uuidv7 where offered, else the SQL fallback. */
export function expectedUuidv7Strategy(versionNum: number | undefined, available: readonly string[]): 'native' | 'extension' | 'fallback' {
  if (versionNum !== undefined && versionNum >= 180000) return 'native';
  return available.includes('pg_uuidv7') ? 'extension' : 'fallback';
}

/** Reachability, version, missing extensions and the uuidv7() path of an external server. */
export function externalChecks(server: ServerFacts, config: ResolvedConfig): Check[] {
  if (!server.connection.ok) {
    return [
      check('external.reachable', 'external', 'fail', `cannot reach ${server.connection.where}: ${server.connection.error}`, {
        fix: 'Check the URL (--url or PGSTRAP_URL), the network path and the credentials',
      }),
    ];
  }
  const checks = [check('external.reachable', 'external', 'ok', `reachable: ${server.connection.where}`)];
  const major = server.versionNum === undefined ? undefined : Math.floor(server.versionNum / 10000);
  checks.push(
    major === config.postgresMajor
      ? check('external.version', 'external', 'ok', `PostgreSQL ${server.version}`)
      : check('external.version', 'external', 'warn', `PostgreSQL ${server.version}; the config declares postgresMajor ${config.postgresMajor}`, {
          fix: `Set postgresMajor: ${major} so the local cluster matches this server, or upgrade the server`,
        }),
  );
  const available = new Set(server.available);
  const lacking = config.extensions.filter((e) => !available.has(e.name));
  const requiredLacking = lacking.filter((e) => e.required);
  checks.push(
    lacking.length === 0
      ? check('external.extensions', 'external', 'ok', `offers every declared extension (${config.extensions.length})`)
      : check('external.extensions', 'external', requiredLacking.length > 0 ? 'fail' : 'warn', `lacks ${lacking.map((e) => (e.required ? e.name : `${e.name} (optional)`)).join(', ')}`, {
          fix: 'Ask the provider to allow them (its extension allow-list), or mark them optional (required: false) in the config',
        }),
  );
  const strategy = expectedUuidv7Strategy(server.versionNum, server.available);
  const why = { native: 'PostgreSQL 18 has it built in', extension: 'from pg_uuidv7', fallback: 'the SQL fallback (no pg_uuidv7 here)' }[strategy];
  checks.push(check('external.uuidv7', 'external', 'ok', `uuidv7() here: ${why}`));
  return checks;
}
