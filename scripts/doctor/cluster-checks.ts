/** Cluster and Connectivity checks for a managed cluster, and the server-wide preload and settings checks. */
import path from 'node:path';
import { unreadableSetting } from '../server/privileges.ts';
import { parseLibraryList, PRELOAD_SETTING } from '../server/conf.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { findExtension } from '../extensions/catalogue.ts';
import type { ClusterFacts, DoctorFacts, FileFact, ServerFacts } from './facts.ts';
import { check, type Check, type CheckGroup } from './model.ts';
import { settingMatches } from '../server/setting-values.ts';
import { formatBytes, fullDiskRemedy, LOW_DISK_BYTES, saysDiskFull } from '../server/disk.ts';

/** The command that restarts the cluster, so that settings read only at start take effect. */
export const RESTART_COMMAND = 'npm run db:stop && npm run db:start';
/** Settings pgstrap writes for where the server listens; the port check covers them. */
const LISTEN_KEYS = new Set(['port', 'listen_addresses', 'unix_socket_directories']);

/**
 * The lines that say why the server stopped or did not start: those of the process that logged the last
 * FATAL or PANIC (its LOG, DETAIL and HINT lines name the cause, e.g. an unknown setting), else the ERROR lines.
 */
export function lastErrors(tail: readonly string[], count = 8): string[] {
  const fatal = [...tail].reverse().find((l) => /\b(FATAL|PANIC):/.test(l));
  const pid = fatal && /\[(\d+)\]/.exec(fatal)?.[0];
  const lines = pid ? tail.filter((l) => l.includes(pid)) : tail.filter((l) => /\bERROR:/.test(l));
  return lines.slice(-count);
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

function portCheck(c: ClusterFacts): Check {
  const id = 'cluster.port';
  if (c.running && c.port !== undefined && c.port !== c.configuredPort) {
    // The restart would move the server to the configured port, so that port must be free too.
    if (c.portFree === false) {
      return check(id, 'cluster', 'fail', `the server listens on ${c.port}; the config says ${c.configuredPort}, which ${c.portHolder ?? 'another process'} holds`, {
        fix: `Stop ${c.portHolder ?? 'that process'} and run ${RESTART_COMMAND}, or set port back to ${c.port} in the config`,
      });
    }
    return check(id, 'cluster', 'warn', `the server listens on ${c.port}, the config says ${c.configuredPort} (changed since it started)`, { fix: RESTART_COMMAND });
  }
  // A derived port says so: two projects on one machine get two ports without anyone setting one.
  const derived = c.portSource === 'project-folder' ? ' (derived from the project folder; set port in the config to choose one)' : '';
  if (c.running) return check(id, 'cluster', 'ok', `127.0.0.1:${c.configuredPort} is this cluster's (pid ${c.pid})${derived}`);
  if (c.portFree === false) {
    return check(id, 'cluster', 'fail', `port ${c.configuredPort} on ${c.portTakenOn ?? '127.0.0.1'} is held by ${c.portHolder ?? 'another process'}, not this cluster`, {
      fix: `Stop ${c.portHolder ?? 'that process'}, or set port in the config to a free port`,
    });
  }
  return check(id, 'cluster', 'ok', `port ${c.configuredPort} on 127.0.0.1 is free for this cluster${derived}`);
}

function dataDirCheck(c: ClusterFacts): Check {
  const { dataDir, owner } = c;
  const id = 'cluster.data-dir';
  if (dataDir.mode === undefined) return check(id, 'cluster', 'fail', `${dataDir.path} cannot be read`, { fix: `ls -ld ${dataDir.path}` });
  if (dataDir.uid !== owner.uid) {
    return check(id, 'cluster', 'fail', `${dataDir.path} belongs to uid ${dataDir.uid}, not the server user ${owner.name} (uid ${owner.uid}); PostgreSQL refuses to start`, {
      fix: `chown -R ${owner.name} ${dataDir.path}`,
    });
  }
  // PostgreSQL accepts 0700, or 0750 for group read access; anything wider stops it at start.
  if ((dataDir.mode & 0o027) !== 0) {
    return check(id, 'cluster', 'fail', `${dataDir.path} is ${octal(dataDir.mode)}; PostgreSQL needs 0700 (or 0750) and refuses to start`, {
      fix: `chmod 700 ${dataDir.path}`,
      repair: 'permissions',
    });
  }
  return check(id, 'cluster', 'ok', `${dataDir.path} is ${octal(dataDir.mode)}, owned by ${owner.name}`);
}

/**
 * Room on the data directory's disk: under LOW_DISK_BYTES the server cannot start (it writes its lock and pid
 * files), add a WAL segment or finish a checkpoint, and a new cluster does not fit; under four times that, a warning.
 */
function diskCheck(c: ClusterFacts, then: string): Check[] {
  if (c.disk === undefined) return [];
  const { dir, free, total } = c.disk;
  const said = `${formatBytes(free)} free of ${formatBytes(total)} on the disk that holds ${dir}`;
  if (free < LOW_DISK_BYTES) return [check('cluster.disk', 'cluster', 'fail', `${said}: too little for the server to start or write`, { fix: fullDiskRemedy(dir, then) })];
  if (free < 4 * LOW_DISK_BYTES) return [check('cluster.disk', 'cluster', 'warn', `${said}: the server stops when it fills`, { fix: fullDiskRemedy(dir, then, 'nearly full') })];
  return [check('cluster.disk', 'cluster', 'ok', said)];
}

/** Checks of the cluster's files and process; omitted beyond `initialised` when there is no cluster yet. */
function clusterChecks(c: ClusterFacts, binariesMajor: number | undefined): Check[] {
  if (!c.initialised) {
    return [
      check('cluster.initialised', 'cluster', 'fail', `no cluster in ${c.dataDir.path} yet`, { fix: 'npm run setup', repair: 'start' }),
      portCheck(c),
      ...diskCheck(c, 'npm run setup'),
    ];
  }
  if (binariesMajor !== undefined && c.dataMajor !== binariesMajor) {
    return [
      check('cluster.initialised', 'cluster', 'fail', `${c.dataDir.path} was initialised by PostgreSQL ${c.dataMajor}; the engine runs ${binariesMajor}`, {
        fix: `Upgrade it (pg_upgrade), move ${c.dataDir.path} away (setup then creates a new cluster), or set postgresMajor: ${c.dataMajor}`,
      }),
    ];
  }
  const checks = [check('cluster.initialised', 'cluster', 'ok', `PostgreSQL ${c.dataMajor} cluster in ${c.dataDir.path}`)];
  checks.push(
    c.running
      ? check('cluster.running', 'cluster', 'ok', `running (pid ${c.pid})`)
      : check('cluster.running', 'cluster', 'fail', 'not running',
          // On a disk too full for it, a start fails: --fix does not try, and the fix is the disk's.
          c.disk !== undefined && c.disk.free < LOW_DISK_BYTES ? { fix: fullDiskRemedy(c.disk.dir, 'npm run db:start') } : { fix: 'npm run db:start', repair: 'start' }),
  );
  checks.push(
    c.stalePid === undefined
      ? check('cluster.stale-pid', 'cluster', 'ok', 'no stale postmaster.pid')
      : check('cluster.stale-pid', 'cluster', 'warn', `postmaster.pid names pid ${c.stalePid}, which is not a running server (a crash or kill -9)`, {
          fix: 'npm run db:start',
          repair: 'start',
        }),
  );
  checks.push(portCheck(c));
  const errors = c.running ? [] : lastErrors(c.logTail);
  if (errors.length === 0) checks.push(check('cluster.log', 'cluster', 'ok', `log: ${c.logFile}`));
  else {
    checks.push(
      check('cluster.log', 'cluster', 'warn', `the server is down; the last errors in ${c.logFile}:`, {
        details: errors,
        fix: saysDiskFull(errors) ? fullDiskRemedy(path.dirname(c.dataDir.path), 'npm run db:start') : `Fix what the log names (tail -n 50 ${c.logFile}), then npm run db:start`,
      }),
    );
  }
  checks.push(dataDirCheck(c), ...diskCheck(c, c.running ? 'run the command that failed again' : 'npm run db:start'));
  return checks;
}

/** The extensions that need `library` preloaded, for messages. */
function extensionsNeeding(library: string, config: ResolvedConfig): ResolvedConfig['extensions'] {
  return config.extensions.filter((e) => findExtension(e.name)?.preload === library);
}

/** shared_preload_libraries as the server loaded it, against what the config implies. */
function preloadCheck(server: ServerFacts, desired: Record<string, string>, managedConf: Record<string, string> | undefined, config: ResolvedConfig, group: CheckGroup): Check {
  const id = `${group}.preload`;
  const wanted = parseLibraryList(desired[PRELOAD_SETTING]);
  if (wanted.length === 0) return check(id, group, 'ok', 'no preload libraries needed');
  if (server.preloaded === undefined) {
    // Not readable by this role: unknown, said as such, never guessed.
    const why = server.role ? unreadableSetting(server.role, PRELOAD_SETTING) : `${PRELOAD_SETTING} is unknown: this role may not read it`;
    return check(id, group, 'warn', `${why}; the config needs ${wanted.join(', ')} there`, {
      fix: `Check the provider's parameter group / server parameters lists ${wanted.join(', ')}, or run doctor as a role with pg_read_all_settings`,
    });
  }
  const loaded = new Set(server.preloaded);
  const missing = wanted.filter((l) => !loaded.has(l));
  if (missing.length === 0) return check(id, group, 'ok', `preloaded: ${wanted.join(', ')}`);
  // A library wanted only by optional extensions is a warning; the config's own setting or a required extension fails.
  const required = missing.some((l) => {
    const users = extensionsNeeding(l, config);
    return users.length === 0 || users.some((e) => e.required);
  });
  const status = required ? 'fail' : 'warn';
  const list = missing.join(', ');
  if (managedConf === undefined) {
    return check(id, group, status, `shared_preload_libraries lacks ${list} on this server`, {
      fix: `Add ${list} to the server's shared_preload_libraries (a managed service: its parameter group) and restart it`,
    });
  }
  const written = parseLibraryList(managedConf[PRELOAD_SETTING]);
  if (missing.every((l) => written.includes(l))) {
    return check(id, group, status, `${list} is in pgstrap.conf but not loaded: the server has not restarted since`, { fix: RESTART_COMMAND });
  }
  return check(id, group, status, `${list} is not preloaded and pgstrap.conf does not list it yet`, { fix: 'npm run setup' });
}

/** The config's settings as the running server has them. */
function settingsCheck(server: ServerFacts, c: ClusterFacts): Check {
  const id = 'cluster.settings';
  const keys = Object.keys(c.desiredConf).filter((k) => !LISTEN_KEYS.has(k) && k !== PRELOAD_SETTING);
  const stale = Object.keys({ ...c.desiredConf, ...c.managedConf }).filter((k) => c.desiredConf[k] !== c.managedConf[k]);
  if (stale.length > 0) {
    return check(id, 'cluster', 'warn', `pgstrap.conf differs from the config: ${stale.join(', ')}`, { fix: 'npm run setup' });
  }
  const byName = new Map(server.settings.map((s) => [s.name.toLowerCase(), s]));
  const notInEffect = keys.filter((k) => {
    const actual = byName.get(k.toLowerCase());
    return actual === undefined || actual.pendingRestart || !settingMatches(c.desiredConf[k]!, actual);
  });
  if (notInEffect.length > 0) {
    const details = notInEffect.map((k) => {
      const actual = byName.get(k.toLowerCase());
      if (actual?.setting === undefined) {
        return `${k}: pgstrap.conf says ${c.desiredConf[k]}, but the server does not know this setting${k.includes('.') ? ' yet (its library is not loaded)' : ''}`;
      }
      return `${k}: pgstrap.conf says ${c.desiredConf[k]}, the server runs ${actual.setting}${actual.unit ? ` (unit ${actual.unit})` : ''}${actual.pendingRestart ? ' (pending restart)' : ''}`;
    });
    return check(id, 'cluster', 'warn', `not in effect yet: ${notInEffect.join(', ')}`, { details, fix: RESTART_COMMAND });
  }
  return check(id, 'cluster', 'ok', keys.length === 0 ? 'pgstrap.conf is current; no custom settings' : `in effect: ${keys.join(', ')}`);
}

function passwordFileCheck(files: FileFact[], uid: number): Check {
  const id = 'connect.password-file';
  const missing = files.filter((f) => !f.exists);
  if (missing.length > 0) {
    const password = missing.find((f) => f.path.endsWith('/password'));
    return check(id, 'connectivity', password ? 'fail' : 'warn', `${missing.map((f) => f.path).join(', ')} missing${password ? ': TCP clients cannot get the password' : ''}`, {
      fix: password
        ? `Set a new one over the socket (ALTER ROLE ... PASSWORD) and write it to ${password.path} (0600); or move the cluster away and run npm run setup`
        : RESTART_COMMAND,
    });
  }
  const loose = files.filter((f) => f.mode !== 0o600);
  if (loose.length > 0) {
    return check(id, 'connectivity', 'warn', loose.map((f) => `${f.path} is ${octal(f.mode ?? 0)}`).join(', ') + ', not 0600', {
      fix: `chmod 600 ${loose.map((f) => f.path).join(' ')}`,
      repair: 'permissions',
    });
  }
  const foreign = files.filter((f) => f.uid !== uid);
  if (foreign.length > 0) {
    return check(id, 'connectivity', 'warn', `${foreign.map((f) => f.path).join(', ')} belong to another user; libpq will not read them`, {
      fix: `chown $(id -un) ${foreign.map((f) => f.path).join(' ')}`,
    });
  }
  return check(id, 'connectivity', 'ok', `${files.map((f) => f.path).join(', ')}: present, 0600`);
}

/** Cluster, server settings and connectivity checks for a managed cluster; notes what could not be checked. */
export function managedChecks(facts: DoctorFacts, config: ResolvedConfig, skipped: string[]): Check[] {
  const c = facts.cluster;
  if (!c) return [];
  const binariesMajor = facts.engine?.ok ? facts.engine.binaries?.major : undefined;
  const checks = clusterChecks(c, binariesMajor);
  const { server } = facts;
  if (!c.running || !server) {
    skipped.push('server settings, connectivity and database checks: the cluster is not running');
    return checks;
  }
  if (server.connection.ok) {
    checks.push(preloadCheck(server, c.desiredConf, c.managedConf, config, 'cluster'), settingsCheck(server, c));
    checks.push(check('connect.socket', 'connectivity', 'ok', `socket ${server.connection.where}: PostgreSQL ${server.version}`));
  } else {
    checks.push(
      check('connect.socket', 'connectivity', 'fail', `cannot connect through the socket ${server.connection.where}: ${server.connection.error}`, { fix: RESTART_COMMAND }),
    );
  }
  const { tcp } = facts;
  if (tcp) {
    if (tcp.ok) checks.push(check('connect.tcp', 'connectivity', 'ok', `TCP ${tcp.where} with the password (scram-sha-256)`));
    else {
      const badPassword = tcp.sqlState === '28P01';
      checks.push(
        check('connect.tcp', 'connectivity', 'fail', `TCP ${tcp.where}: ${badPassword ? 'the server rejects the password in the password file' : tcp.error}`, {
          fix: badPassword
            ? `Over the socket, ALTER ROLE ${config.superuser} PASSWORD '<the contents of ${facts.passwordFiles[0]?.path}>'`
            : RESTART_COMMAND,
        }),
      );
    }
  }
  if (facts.passwordFiles.length > 0) checks.push(passwordFileCheck(facts.passwordFiles, facts.uid));
  return checks;
}

/** The preload check for a server pgstrap does not manage (settings there are reported, not applied). */
export function externalPreloadCheck(server: ServerFacts, desired: Record<string, string>, config: ResolvedConfig): Check {
  return preloadCheck(server, desired, undefined, config, 'external');
}
