/** Steps for a managed cluster's lifecycle: initdb, the managed settings file, start. */
import fs from 'node:fs';
import type { ResolvedConfig } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { socketPath } from '../server/layout.ts';
import {
  acceptedValues,
  describeSettingChange,
  directiveNames,
  listenSettings,
  OUTPUT_PLUGIN_SETTING,
  parseConfigCheck,
  parseLibraryList,
  planSettings,
  PRELOAD_SETTING,
  preloadLibraryNames,
  renderManagedConf,
  type SettingDefinition,
  START_LIBRARY_SETTINGS,
} from '../server/conf.ts';
import { quoteLiteral } from '../shared/identifiers.ts';
import {
  catalogued,
  desiredSettings,
  describeRetained,
  retainSettingsInUse,
  settingReasons,
  type RetainedExtension,
} from '../extensions/settings.ts';
import { readInstalledExtensions } from '../extensions/server.ts';
import { installedChecker } from '../extensions/installed.ts';
import { extraSearchDirs, readInstalledFiles } from '../extensions/files.ts';
import { checkConfigFile, readKnownSettings } from '../server/binaries.ts';

import { verifyPortBindable } from '../server/port.ts';
import { connectionFor, type ManagedTarget } from '../server/target.ts';
import { withClient } from '../server/connection.ts';
import { writePgpass } from '../server/client-env.ts';
import { withSession, type RunContext, type Step } from '../pipeline/step.ts';
import { pendingRestart } from '../pipeline/report.ts';

/** Only managed clusters have a lifecycle. */
function skipExternal(ctx: RunContext): string | undefined {
  return ctx.target.kind === 'external' ? 'external server: no lifecycle' : undefined;
}

function managed(ctx: RunContext): ManagedTarget {
  if (ctx.target.kind === 'external') throw new Error('a lifecycle step ran on an external target');
  return ctx.target;
}

/** The settings a managed target's binaries know (cached per binaries in the state folder). */
function knownSettings(target: ManagedTarget): Promise<Map<string, SettingDefinition>> {
  return readKnownSettings(target.binaries, target.layout.serverSettingsCache);
}

/** Each extension installed in any database of a running cluster, with those databases. */
async function readExtensionsInUse(target: ManagedTarget): Promise<Map<string, string[]>> {
  const names = await withClient(connectionFor(target, 'postgres'), async (c) => {
    const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname');
    return rows.map((r) => r.datname);
  });
  const inUse = new Map<string, string[]>();
  const installed = await Promise.all(names.map((db) => withClient(connectionFor(target, db), readInstalledExtensions)));
  names.forEach((db, i) => {
    for (const name of installed[i]!.keys()) inUse.set(name, [...(inUse.get(name) ?? []), db]);
  });
  return inUse;
}

/**
 * desiredSettings for a managed target, counting only the extensions its binaries have installed. The
 * server's setting list is read only when an installed output plugin is declared: whether it has
 * output_plugin_libraries decides what is written. Given the managed file's `current` settings, a preload
 * the config no longer implies stays while an extension that needs it is installed: only then are the
 * databases asked.
 */
export async function targetSettings(
  config: ResolvedConfig,
  target: ManagedTarget,
  current?: Record<string, string>,
): Promise<{ settings: Record<string, string>; retained: RetainedExtension[] }> {
  const isInstalled = installedChecker(await readInstalledFiles(target.binaries, extraSearchDirs(config.settings)));
  const plugins = catalogued(config.extensions, isInstalled).filter(({ entry }) => entry.kind === 'output-plugin');
  const allowed = plugins.length === 0 ? undefined : (await knownSettings(target)).get(OUTPUT_PLUGIN_SETTING)?.default;
  const desired = desiredSettings(config, isInstalled, { socketDir: target.layout.socketDir, outputPluginDefault: allowed });
  if (current === undefined) return { settings: desired, retained: [] };
  const dropsPreload = parseLibraryList(current[PRELOAD_SETTING]).some((l) => !parseLibraryList(desired[PRELOAD_SETTING]).includes(l));
  if (!dropsPreload) return { settings: desired, retained: [] };
  const inUse = target.cluster.status().running ? await readExtensionsInUse(target) : undefined;
  return retainSettingsInUse(current, desired, inUse, isInstalled);
}

/** Refuses a data directory of another major version: pgstrap never converts or deletes data. */
function verifyDataMajor(target: ManagedTarget): void {
  const { dataMajor } = target.cluster.status();
  if (dataMajor !== undefined && dataMajor !== target.binaries.major) {
    throw new PgstrapError({
      code: 'cluster.version-mismatch',
      message: `${target.layout.dataDir} was initialised by PostgreSQL ${dataMajor}; this engine runs ${target.binaries.version}`,
      remedy: `Upgrade it with pg_upgrade or pg_dump/pg_restore, or move that folder away (setup then creates a new cluster), or set postgresMajor: ${dataMajor}.`,
      exit: ExitCode.cluster,
    });
  }
}

/**
 * Refuses to make a cluster while a server of this project still runs without its data directory
 * (deleted or moved under it): the new cluster would be overwritten when that server stops.
 */
async function verifyNoLiveServer(target: ManagedTarget, port: number): Promise<void> {
  const live = await target.cluster.liveServerElsewhere(port);
  if (!live) return;
  throw new PgstrapError({
    code: 'cluster.orphan-server',
    message: `a server (pid ${live.pid}) still runs for ${live.dataDir ?? target.layout.dataDir}, but that data directory is not there any more (found by its ${live.foundBy})`,
    details: ['Making a new cluster now would let that server write its state into it when it stops.'],
    remedy: `Stop it first: kill -INT ${live.pid} (a fast shutdown; what its data directory held is already gone), then run npm run setup.`,
    exit: ExitCode.cluster,
  });
}

export const initialiseStep: Step = {
  id: 'cluster',
  title: 'Initialise the cluster',
  skip: skipExternal,
  async run(ctx) {
    const target = managed(ctx);
    const notes: string[] = [];
    if (target.layout.relocated) notes.push(`runtime state lives in ${target.layout.runtimeDir}: the server user "${target.user?.name}" cannot reach ${ctx.config.stateDir}`);
    if (target.user) notes.push(`running as root: the server runs as "${target.user.name}" (uid ${target.user.uid})`);
    if (target.cluster.isInitialised()) {
      verifyDataMajor(target);
      return { notes };
    }
    await verifyNoLiveServer(target, ctx.config.port);
    // Before initdb: a name or value the server refuses must not leave a cluster behind.
    await verifySettings(ctx, target, (await targetSettings(ctx.config, target)).settings);
    const changes: string[] = [];
    const aside = target.cluster.setAsidePartial();
    if (aside) changes.push(`moved a half-made cluster an interrupted run left aside to ${aside}`);
    ctx.log(`initdb ${target.layout.dataDir}`);
    // Only where to listen: the settings step writes the rest after checking every name, before the first start.
    await target.cluster.initialise(listenSettings(ctx.config.port, target.layout.socketDir));
    writePgpass(target.layout, ctx.config);
    return { changes: [...changes, `initialised ${target.layout.dataDir} with ${target.binaries.origin}`], notes };
  },
};

/** Fails on a preload library the installation lacks: `postgres -C` accepts it, but the server would not start. */
async function verifyStartLibraries(target: ManagedTarget, desired: Record<string, string>, where: (name: string) => string): Promise<void> {
  const files = await readInstalledFiles(target.binaries, extraSearchDirs(desired));
  // Where the library folder is unknown, the server's own start is the only judge.
  if (files.pkglibdir === undefined) return;
  for (const setting of START_LIBRARY_SETTINGS) {
    const value = desired[setting];
    if (value === undefined) continue;
    const missing = preloadLibraryNames(value).filter((lib) => (lib.includes('/') ? !fs.existsSync(lib) && !fs.existsSync(`${lib}.so`) : !files.libraries.has(lib)));
    if (missing.length === 0) continue;
    throw new PgstrapError({
      code: 'config.bad-setting',
      message: `${setting} names ${missing.map((m) => `"${m}"`).join(', ')}, which PostgreSQL ${target.binaries.version} does not have: the server would not start; nothing was written`,
      details: [`${where(setting)} = ${quoteLiteral(value)}`, `libraries are looked up in ${files.pkglibdir}`],
      remedy: 'Install the extension that provides it for this PostgreSQL (or use the engine that has it), or remove it from the list.',
      exit: ExitCode.usage,
    });
  }
}

/** The managed file contents each run has had the server accept, so a cold setup checks them once. */
const acceptedSettings = new WeakMap<RunContext, string>();

/**
 * Has the server itself parse the managed file pgstrap is about to write (`postgres -C` on a throwaway
 * copy), before initdb and before any write: an unknown name or a value it refuses fails here, naming
 * the key, the value and what the server accepts, and the cluster keeps a file it starts with. The port
 * must be one the (never root) server can bind.
 */
export async function verifySettings(ctx: RunContext, target: ManagedTarget, desired: Record<string, string>, known?: Map<string, SettingDefinition>): Promise<void> {
  const conf = renderManagedConf(desired);
  if (acceptedSettings.get(ctx) === conf) return;
  const where = (name: string) => (name in ctx.config.settings ? `settings.${name} in ${ctx.config.file ?? 'the config'}` : `${name} (set by pgstrap)`);
  const directives = directiveNames(Object.keys(desired));
  if (directives.length > 0) {
    throw new PgstrapError({
      code: 'config.bad-setting',
      message: `${directives.join(', ')} reads another file into postgresql.conf: it is not a setting pgstrap can manage`,
      details: directives.map(where),
      remedy: 'Remove it and list the settings themselves under settings.',
      exit: ExitCode.usage,
    });
  }
  await verifyPortBindable(ctx.config.port, target.user ? `"${target.user.name}"` : 'this user', ctx.config.file);
  await verifyStartLibraries(target, desired, where);
  const refused = await checkConfigFile(target.binaries.binDir, conf, target.user);
  if (refused === undefined) {
    acceptedSettings.set(ctx, conf);
    return;
  }
  const definitions = known ?? (await knownSettings(target));
  const problems = parseConfigCheck(refused, Object.keys(desired));
  const details = problems.map((p) => {
    if (p.name === undefined) return p.message;
    const value = desired[p.name];
    const accepts = acceptedValues(definitions.get(p.name.toLowerCase()));
    const hasHint = p.message.includes('(');
    return `${where(p.name)} = ${value === undefined ? '(unset)' : quoteLiteral(value)}: ${p.message}${accepts && !hasHint ? `; it takes ${accepts}` : ''}`;
  });
  const names = problems.flatMap((p) => (p.name === undefined ? [] : [p.name]));
  const unknownName = problems.some((p) => p.message.startsWith('unrecognized configuration parameter'));
  throw new PgstrapError({
    code: unknownName ? 'config.unknown-setting' : 'config.bad-setting',
    message: `PostgreSQL ${target.binaries.version} refuses ${names.length > 0 ? names.map((n) => `"${n}"`).join(', ') : 'the settings'}; nothing was written`,
    details: details.length > 0 ? details : refused.split('\n').slice(-5),
    remedy: unknownName
      ? 'Check the spelling against https://www.postgresql.org/docs/current/runtime-config.html, or remove it.'
      : 'Give a value the server accepts (see each line above), or remove the setting.',
    exit: ExitCode.usage,
  });
}

export const settingsStep: Step = {
  id: 'settings',
  title: 'Apply server settings',
  skip: skipExternal,
  async run(ctx) {
    const target = managed(ctx);
    const { cluster } = target;
    const current = cluster.readManagedConf();
    const { settings: desired, retained } = await targetSettings(ctx.config, target, current);
    const kept = retained.map(describeRetained);
    // Only a changed file needs the server's list of settings, so a warm run spawns nothing here.
    const sameKeys = JSON.stringify(current) === JSON.stringify(desired);
    if (sameKeys) return { notes: kept };
    const known = await knownSettings(target);
    await verifySettings(ctx, target, desired, known);
    const plan = planSettings(current, desired, known);
    for (const change of plan.changes) ctx.log(describeSettingChange(change));
    cluster.writeManagedConf(desired);
    const running = cluster.status().running;
    // A running server reloads what it can; what takes effect only at start, the start step restarts for.
    const restartRequired = running && plan.restart ? plan.changes.filter((c) => c.restart).map((c) => c.name).join(', ') : undefined;
    if (running && !plan.restart) await withSession(ctx, 'postgres', (c) => c.query('SELECT pg_reload_conf()'));
    // Say why: which declared extensions need each changed setting.
    const reasons = settingReasons(ctx.config);
    const notes = [...plan.changes.flatMap((c) => (reasons[c.name] ? [`${c.name}: needed by ${reasons[c.name]!.join(', ')}`] : [])), ...kept];
    return { changes: plan.changes.map(describeSettingChange), notes, restartRequired };
  },
};

export const startStep: Step = {
  id: 'start',
  title: 'Start the cluster',
  skip: skipExternal,
  async run(ctx) {
    const target = managed(ctx);
    const { cluster, layout } = target;
    const notes: string[] = [];
    if (cluster.status().running) {
      const reason = pendingRestart(ctx.reports);
      if (!reason) return { notes };
      ctx.log(`restarting for ${reason}`);
      await ctx.sessions?.closeAll();
      await cluster.stop();
      await cluster.start(ctx.config.port);
      return { changes: [`restarted the server (${reason} ${reason.includes(',') ? 'take' : 'takes'} effect only at start)`] };
    }
    const { recoveredStalePid } = await cluster.start(ctx.config.port);
    if (recoveredStalePid !== undefined) notes.push(`removed a stale postmaster.pid (pid ${recoveredStalePid} was not running)`);
    writePgpass(layout, ctx.config);
    if (!fs.existsSync(socketPath(layout.socketDir, ctx.config.port))) notes.push(`no socket in ${layout.socketDir}: TCP only`);
    return { changes: [`started PostgreSQL ${target.binaries.version} on 127.0.0.1:${ctx.config.port}, socket in ${layout.socketDir}`], notes };
  },
};
