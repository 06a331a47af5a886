/**
 * Per-database checks (exists, extensions, uuidv7(), migrations) and the External server checks. Extension
 * verdicts come from the extension planner setup uses, so doctor and setup never disagree about them.
 */
import { POOLED_REMEDY } from '../server/pooling.ts';
import { describeTlsInUse } from '../server/tls.ts';
import type { ResolvedConfig, ResolvedExtension } from '../config/types.ts';
import { findExtension } from '../extensions/catalogue.ts';
import { describeDowngrade, downgradeRemedy, planExtensions, undeclaredExtensions, type ExtensionPlan, type ServerExtensionFacts } from '../extensions/plan.ts';
import { driftDetected } from '../migrations/errors.ts';
import { isUpToDate } from '../migrations/plan.ts';
import { FALLBACK_RANDOM_WORDS, FAST_RANDOM_CAVEAT } from '../uuidv7/sql.ts';
import { chooseStrategy, type Uuidv7Choice } from '../uuidv7/strategy.ts';
import type { CronFact, CronJobFact, DatabaseFacts, MigrationFact, ServerFacts, Uuidv7Fact } from './facts.ts';
import { check, databaseGroup, type Check } from './model.ts';
import { describeReadOnly, type RoleFacts } from '../server/privileges.ts';
import { planSettingDrift } from '../server/setting-values.ts';

/** RFC 9562: version nibble 7, variant bits 10. */
export function isUuidv7(text: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(text);
}

/** How each strategy reads in a message. */
const STRATEGY_WORDS = { native: "PostgreSQL's built-in uuidv7()", pg_uuidv7: 'pg_uuidv7', fallback: "pgstrap's SQL fallback" } as const;

/** The planner's verdict on each extension declared for `db`, as checks. */
function extensionChecks(db: DatabaseFacts, declared: readonly ResolvedExtension[], plan: ExtensionPlan): Check[] {
  const group = databaseGroup(db.name);
  const actions = plan.databases.find((p) => p.database === db.name)?.actions ?? [];
  return declared
    .filter((ext) => ext.databases.includes(db.name))
    .map((ext) => {
      const id = `db.${db.name}.extension.${ext.name}`;
      const label = ext.required ? ext.name : `${ext.name} (optional)`;
      const bad = ext.required ? 'fail' : 'warn';
      const downgrade = plan.downgrades.find((d) => d.name === ext.name && d.database === db.name);
      // Setup refuses it too: not a fix --fix could apply.
      if (downgrade) return check(id, group, bad, describeDowngrade(downgrade).replace(`${db.name}: `, ''), { fix: downgradeRemedy(downgrade) });
      const missing = plan.missing.find((m) => m.name === ext.name && m.databases.includes(db.name));
      if (missing) return check(id, group, bad, ext.required ? missing.reason : `optional: ${missing.reason}`, { fix: missing.fix });
      const action = actions.find((a) => a.name === ext.name);
      if (action?.kind === 'create') {
        return check(id, group, bad, `${label} is available but not installed`, { fix: 'npm run setup', repair: 'extensions' });
      }
      if (action?.kind === 'update') {
        return check(id, group, bad, `${label} is at ${action.from}, pinned to ${action.to}`, { fix: 'npm run setup', repair: 'extensions' });
      }
      if (findExtension(ext.name)?.kind === 'output-plugin') return check(id, group, 'ok', `output plugin ${ext.name} works (a logical slot was created and dropped)`);
      const installed = db.installed.get(ext.name);
      if (installed && ext.schema !== undefined && installed.schema !== ext.schema) {
        return check(id, group, 'warn', `${label} ${installed.version} is in schema ${installed.schema}; the config says ${ext.schema}`, {
          fix: `ALTER EXTENSION ${ext.name} SET SCHEMA ${ext.schema} (where the extension allows it), or change schema in the config`,
        });
      }
      return check(id, group, 'ok', `${label} ${installed?.version ?? ''} installed`);
    });
}

/** Installed extensions the config does not declare for `db`: a warning each, with the statement that drops it. */
function undeclaredChecks(db: DatabaseFacts, declared: readonly ResolvedExtension[]): Check[] {
  return undeclaredExtensions(declared, [{ database: db.name, installed: db.installed }]).map((u) =>
    check(`db.${db.name}.extension.${u.name}`, databaseGroup(db.name), 'warn', `${u.name} ${u.version} is installed, but the config does not declare it`, {
      details: u.warning === undefined ? [] : [u.warning],
      fix: `Declare it in the config to keep it, or drop it (psql -d ${db.name}): ${u.dropSql}`,
    }),
  );
}

function uuidv7Check(db: DatabaseFacts, fact: Uuidv7Fact, choice: Uuidv7Choice): Check {
  const configured = choice.fallbackRandom;
  const id = `db.${db.name}.uuidv7`;
  const group = databaseGroup(db.name);
  const random = fact.fallbackRandom ? `, ${FALLBACK_RANDOM_WORDS[fact.fallbackRandom]}` : '';
  const via = fact.strategy ? ` (${STRATEGY_WORDS[fact.strategy]}${random})` : '';
  if (fact.sample === undefined) {
    return check(id, group, 'fail', `uuidv7() does not work: ${fact.error ?? 'no result'}`, { fix: 'npm run setup', repair: 'uuidv7' });
  }
  const wrong = fact.sample.filter((u) => !isUuidv7(u));
  if (wrong.length > 0) return check(id, group, 'fail', `uuidv7()${via} returned ${wrong[0]}, not a version-7 UUID`, { fix: 'npm run setup', repair: 'uuidv7' });
  if (new Set(fact.sample).size !== fact.sample.length) return check(id, group, 'fail', `uuidv7()${via} returned the same id twice`, { fix: 'npm run verify' });
  if (!fact.strategy) return check(id, group, 'warn', 'uuidv7() returns version-7 ids, but it is not one pgstrap set up', { fix: 'npm run setup', repair: 'uuidv7' });
  if (fact.strategy === 'fallback' && fact.fallbackRandom !== configured) {
    return check(id, group, 'warn', `uuidv7()${via} returns version-7 ids, but the config asks for uuidv7.fallbackRandom: '${configured}'`, { fix: 'npm run setup', repair: 'uuidv7' });
  }
  const wanted = fact.strategy === 'native' ? 'native' : db.installed.has('pg_uuidv7') && choice.generator === 'pg_uuidv7' ? 'pg_uuidv7' : 'fallback';
  if (fact.strategy !== wanted) {
    return check(id, group, 'warn', `uuidv7()${via} returns version-7 ids, but the config asks for uuidv7.generator: '${choice.generator}'`, { fix: 'npm run setup', repair: 'uuidv7' });
  }
  return check(id, group, 'ok', `uuidv7()${via} returns version-7 ids`);
}

function migrationsCheck(db: string, fact: MigrationFact): Check {
  const id = `db.${db}.migrations`;
  const group = databaseGroup(db);
  // migrate stops on the same error, so doctor fails on it too.
  const { plan } = fact;
  if (fact.error !== undefined || plan === undefined) {
    return check(id, group, 'fail', `cannot read the migrations: ${fact.error ?? 'no plan'}`, { fix: fact.remedy ?? 'npm run migrate:status' });
  }
  if (!fact.builtIn) return check(id, group, 'ok', "handed to the app's own migrator (migrations.command), which doctor cannot read");
  const applied = plan.applied.length;
  if (isUpToDate(plan)) return check(id, group, 'ok', applied === 0 ? 'no migrations' : `${applied} applied, none pending`);
  if (plan.drifted.length > 0) {
    // The runner's own error says how to restore or accept each drift; doctor shows the same words.
    const error = driftDetected(db, plan.drifted);
    return check(id, group, 'fail', `${plan.drifted.length} drifted: applied, then edited, removed or stopped half way`, { details: error.details, fix: error.remedy });
  }
  const pending = plan.pending.map((f) => `${f.version}_${f.name}`);
  return check(id, group, 'warn', `${pending.length} pending: ${pending.slice(0, 3).join(', ')}${pending.length > 3 ? ', ...' : ''}`, {
    fix: 'npm run migrate',
    repair: 'migrations',
  });
}

/** The last run never got to the job's command: no connection (or no background worker) to run it in. */
function couldNotStart(job: CronJobFact): boolean {
  return /connection failed|could not connect|password|background (worker|process)/i.test(job.lastMessage ?? '');
}

function describeJob(job: CronJobFact): string {
  const name = job.name === undefined ? '' : ` (${job.name})`;
  const when = job.lastStart === undefined ? 'never started' : `started ${job.lastStart}`;
  return `job ${job.id}${name}, '${job.schedule}', as ${job.user}: ${when}, ${job.lastStatus}: ${job.lastMessage ?? 'no message'}`;
}

/** What makes pg_cron's jobs start again, from how it runs them. */
function cronStartFix(fact: CronFact): string {
  if (fact.backgroundWorkers) {
    return "pg_cron runs each job in a background worker and none was free: raise max_worker_processes in the config's settings (npm run setup restarts the server)";
  }
  return (
    `pg_cron connects for each job to the host it was scheduled with (cron.job.nodename; cron.host is ${fact.host ?? 'localhost'}), over TCP, where the server asks for a password it does not have. ` +
    'Set cron.use_background_workers = on: on a managed cluster `npm run setup` writes it and restarts the server, and every job runs without a connection'
  );
}

/** Whether pg_cron's jobs run: the last recorded run of each active job. */
function cronCheck(db: string, fact: CronFact): Check {
  const id = `db.${db}.cron`;
  const group = databaseGroup(db);
  if (fact.error !== undefined) return check(id, group, 'warn', `cannot read pg_cron's jobs: ${fact.error}`, { fix: 'SELECT * FROM cron.job (as the superuser) to see why' });
  const count = `${fact.jobs.length} active job${fact.jobs.length === 1 ? '' : 's'}`;
  if (fact.jobs.length === 0) return check(id, group, 'ok', 'pg_cron: no active jobs');
  if (!fact.runsRecorded) return check(id, group, 'ok', `pg_cron: ${count}; this pg_cron records no runs, so whether they work is not known`);
  const failed = fact.jobs.filter((j) => j.lastStatus === 'failed');
  const waiting = fact.jobs.filter((j) => j.lastStatus === undefined).length;
  if (failed.length === 0) {
    if (waiting === fact.jobs.length) return check(id, group, 'ok', `pg_cron: ${count}, none has run yet`);
    return check(id, group, 'ok', `pg_cron: ${count}, each last run succeeded${waiting === 0 ? '' : ` (${waiting} not run yet)`}`);
  }
  const details = failed.map(describeJob);
  const unstarted = failed.filter(couldNotStart);
  if (unstarted.length > 0) {
    return check(id, group, 'fail', `pg_cron: the last run of ${unstarted.length} of ${count} never started, so they do not run`, { details, fix: cronStartFix(fact) });
  }
  const ids = failed.map((j) => j.id).join(', ');
  return check(id, group, 'warn', `pg_cron: the last run of job${failed.length === 1 ? '' : 's'} ${ids} failed with the job's own error`, {
    details,
    fix: `Fix the command: SELECT cron.alter_job(${failed[0]!.id}, command := '...'), or stop it: SELECT cron.unschedule(${failed[0]!.id})`,
  });
}

/** The checks of every database the target manages. */
export function databaseChecks(
  databases: readonly DatabaseFacts[],
  declared: readonly ResolvedExtension[],
  server: ServerExtensionFacts | undefined,
  mayCreate: boolean,
  choice: Uuidv7Choice,
): Check[] {
  const present = databases.filter((db) => db.connection.ok && db.connection.readError === undefined);
  const plan = server
    ? planExtensions(declared, server, present.map((db) => ({ database: db.name, installed: db.installed })))
    : undefined;
  return databases.flatMap((db) => {
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
    if (db.connection.readError !== undefined) {
      // Connected, so it exists; what it holds is unknown, and no verdict is made up from an empty read.
      return [
        check(id, group, 'ok', 'exists'),
        check(`db.${db.name}.read`, group, 'fail', `connected, but reading its extensions, uuidv7() and migrations failed: ${db.connection.readError}`, {
          fix: 'Run doctor as a role that may read this database (its owner), or report this output',
        }),
      ];
    }
    const checks = [check(id, group, 'ok', 'exists')];
    if (plan) checks.push(...extensionChecks(db, declared, plan));
    checks.push(...undeclaredChecks(db, declared));
    if (db.uuidv7) checks.push(uuidv7Check(db, db.uuidv7, choice));
    if (db.migrations) checks.push(migrationsCheck(db.name, db.migrations));
    if (db.cron) checks.push(cronCheck(db.name, db.cron));
    return checks;
  });
}

/** What the URL's role is and may do there, and whether the server takes writes from it. */
function roleChecks(role: RoleFacts): Check[] {
  const rights = role.superuser
    ? 'superuser'
    : role.providerAdmin.length > 0
      ? `not superuser, member of ${role.providerAdmin.join(', ')} (a provider's extension-admin role: treated as superuser for CREATE EXTENSION)`
      : [
          'not superuser',
          role.createOn.length > 0 ? `CREATE on ${role.createOn.join(', ')}: may create trusted extensions only` : 'no CREATE on the managed databases: may create no extension',
          ...(role.readAllSettings ? [] : ['may not read superuser-only settings such as shared_preload_libraries (no pg_read_all_settings)']),
        ].join('; ');
  const checks = [check('external.role', 'external', 'ok', `role ${role.role}: ${rights}`)];
  const readOnly = describeReadOnly(role);
  if (readOnly !== undefined) {
    checks.push(
      check('external.writable', 'external', 'warn', `read-only: ${readOnly}`, {
        details: ['setup and migrate refuse to run here before changing anything; doctor, verify and migrate:status work read-only'],
        fix: role.inRecovery ? 'Point setup and migrate at the primary' : `Run setup and migrate as a role that may write (ALTER ROLE ${role.role} SET default_transaction_read_only = off)`,
      }),
    );
  }
  return checks;
}

/** The config's settings against the server's, each difference with the statement or provider setting that changes it. */
export function externalSettingsCheck(server: ServerFacts, config: ResolvedConfig, databases: readonly string[]): Check {
  const id = 'external.settings';
  const names = Object.keys(config.settings);
  if (names.length === 0) return check(id, 'external', 'ok', 'no settings in the config');
  if (!server.role) return check(id, 'external', 'warn', 'the server\'s settings could not be read');
  const drifts = planSettingDrift(config.settings, server.settings, server.role, databases);
  if (drifts.length === 0) return check(id, 'external', 'ok', `in effect as configured: ${names.join(', ')}`);
  return check(id, 'external', 'warn', `${drifts.length} of ${names.length} setting${names.length === 1 ? '' : 's'} differ from the config: ${drifts.map((d) => d.name).join(', ')}`, {
    details: drifts.map((d) => d.message),
    fix: 'Change each as its line says (pgstrap changes no setting of a server it does not run), or change the config',
  });
}

/** Reachability, version, missing extensions and the uuidv7() path of an external server. */
export function externalChecks(server: ServerFacts, config: ResolvedConfig, declared: readonly ResolvedExtension[]): Check[] {
  if (!server.connection.ok) {
    return [
      check('external.reachable', 'external', 'fail', `cannot reach ${server.connection.where}: ${server.connection.error}`, {
        fix: server.connection.remedy ?? 'Check the URL (--url or PGSTRAP_URL), the network path and the credentials',
      }),
    ];
  }
  const checks = [check('external.reachable', 'external', 'ok', `reachable: ${server.connection.where}`)];
  if (server.connection.readError !== undefined) {
    checks.push(
      check('external.read', 'external', 'fail', `reached, but reading the server's state failed: ${server.connection.readError}`, {
        fix: 'Run doctor as a role that may read the catalogs (the database owner), or report this output',
      }),
    );
    return checks;
  }
  if (server.role) checks.push(...roleChecks(server.role));
  const major = server.versionNum === undefined ? undefined : Math.floor(server.versionNum / 10000);
  checks.push(
    major === config.postgresMajor
      ? check('external.version', 'external', 'ok', `PostgreSQL ${server.version}`)
      : check('external.version', 'external', 'warn', `PostgreSQL ${server.version}; the config declares postgresMajor ${config.postgresMajor}`, {
          fix: `Set postgresMajor: ${major} so the local cluster matches this server, or upgrade the server`,
        }),
  );
  const available = server.extensions?.available ?? new Map<string, string>();
  const lacking = declared.filter((e) => !available.has(e.name) && findExtension(e.name)?.kind !== 'output-plugin');
  checks.push(
    lacking.length === 0
      ? check('external.extensions', 'external', 'ok', `offers every declared extension (${declared.length})`)
      : check('external.extensions', 'external', lacking.some((e) => e.required) ? 'fail' : 'warn', `lacks ${lacking.map((e) => (e.required ? e.name : `${e.name} (optional)`)).join(', ')}`, {
          fix: "Ask the provider to allow them (its extension allow-list), or mark them optional (required: false) in the config",
        }),
  );
  if (server.tls) {
    const { message, note } = describeTlsInUse(server.tls.settings, server.tls.protocol);
    checks.push(check('external.tls', 'external', 'ok', message, { details: note ? [note] : [] }));
  }
  if (server.pooling?.direct) checks.push(check('external.pooler', 'external', 'ok', 'migrations use the direct URL (directUrl), so their lock holds behind a pooler'));
  else if (server.pooling?.unpinned) {
    checks.push(
      check('external.pooler', 'external', 'warn', `a pooler that does not pin sessions (PgBouncer in transaction mode): ${server.pooling.unpinned}; migrate would refuse here, as the migration lock would not hold`, {
        fix: POOLED_REMEDY,
      }),
    );
  }
  // Setup's own choice: native on 18+, pg_uuidv7 when it can install it and uuidv7.generator asks for it, else the SQL fallback.
  const extension = available.has('pg_uuidv7') && declared.some((e) => e.name === 'pg_uuidv7');
  const strategy = chooseStrategy(server.versionNum ?? 0, extension ? 'public' : undefined, config.uuidv7.generator);
  const note =
    strategy !== 'fallback' ? '' : extension ? " (uuidv7.generator: 'fallback')" : available.has('pg_uuidv7') ? ' (pg_uuidv7 is offered but not declared)' : ' (no pg_uuidv7 here)';
  const random = strategy === 'fallback' ? `, ${FALLBACK_RANDOM_WORDS[config.uuidv7.fallbackRandom]}` : '';
  checks.push(
    check('external.uuidv7', 'external', 'ok', `uuidv7() here: ${STRATEGY_WORDS[strategy]}${random}${note}`, {
      // Not a fault: a shared server is where a team should know its ids are guessable, and the way out.
      details: strategy === 'fallback' && config.uuidv7.fallbackRandom === 'fast' ? [FAST_RANDOM_CAVEAT] : [],
    }),
  );
  return checks;
}
