/** Steps for a managed cluster's lifecycle: initdb, the managed settings file, start. */
import fs from 'node:fs';
import type { ResolvedConfig } from '../core/config/types.ts';
import { ExitCode, PgstrapError } from '../core/errors.ts';
import { socketPath } from '../core/layout.ts';
import {
  describeSettingChange,
  planSettings,
  unknownSettings,
  type SettingDefinition,
} from '../core/server-settings.ts';
import {
  catalogued,
  describeRetained,
  OUTPUT_PLUGIN_SETTING,
  parseLibraryList,
  PRELOAD_SETTING,
  retainSettingsInUse,
  settingReasons,
  settingsForExtensions,
  type ClusterSettingFacts,
  type RetainedExtension,
} from '../core/extension-settings.ts';
import { readInstalledExtensions } from '../db/extensions.ts';
import { installedChecker } from '../core/extensions/installed.ts';
import { extraSearchDirs, readInstalledFiles } from '../engines/extension-files.ts';
import { withClient } from '../db/client.ts';
import { readKnownSettings } from '../engines/binaries.ts';
import { listenSettings } from '../engines/cluster.ts';
import { connectionFor, type ManagedTarget } from '../engines/target.ts';
import { writePgpass } from '../engines/client-env.ts';
import type { RunContext, Step } from './step.ts';

/** Only managed clusters have a lifecycle. */
function skipExternal(ctx: RunContext): string | undefined {
  return ctx.target.kind === 'external' ? 'external server: no lifecycle' : undefined;
}

function managed(ctx: RunContext): ManagedTarget {
  if (ctx.target.kind === 'external') throw new Error('a lifecycle step ran on an external target');
  return ctx.target;
}

/**
 * Every setting the managed file should hold: where to listen, the config's own, then what the
 * installed extensions need (validation rules out conflicts; preloads are merged with the config's).
 */
export function desiredSettings(
  config: ResolvedConfig,
  socketDir: string,
  isInstalled?: (name: string) => boolean,
  outputPluginDefault?: string,
): Record<string, string> {
  const cluster: ClusterSettingFacts = { outputPluginDefault };
  return { ...listenSettings(config.port, socketDir), ...config.settings, ...settingsForExtensions(config, isInstalled, cluster) };
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
  const desired = desiredSettings(config, target.layout.socketDir, isInstalled, allowed);
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
    ctx.log(`initdb ${target.layout.dataDir}`);
    // Only where to listen: the settings step writes the rest after checking every name, before the first start.
    await target.cluster.initialise(listenSettings(ctx.config.port, target.layout.socketDir));
    writePgpass(target.layout, ctx.config);
    return { changes: [`initialised ${target.layout.dataDir} with ${target.binaries.origin}`], notes };
  },
};

/** Fails on setting names the server does not know, before anything is written. */
function verifySettingNames(config: ResolvedConfig, names: string[], known: Map<string, SettingDefinition>, version: string): void {
  const unknown = unknownSettings(names, known);
  if (unknown.length === 0) return;
  throw new PgstrapError({
    code: 'config.unknown-setting',
    message: `PostgreSQL ${version} has no setting named ${unknown.map((n) => `"${n}"`).join(', ')}`,
    details: unknown.map((n) => `settings.${n} in ${config.file ?? 'the config'}`),
    remedy: 'Check the spelling against https://www.postgresql.org/docs/current/runtime-config.html, or remove it.',
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
    verifySettingNames(ctx.config, Object.keys(desired), known, target.binaries.version);
    const plan = planSettings(current, desired, known);
    for (const change of plan.changes) ctx.log(describeSettingChange(change));
    cluster.writeManagedConf(desired);
    const status = cluster.status();
    if (status.running) {
      if (plan.restart) ctx.restartReason = plan.changes.filter((c) => c.restart).map((c) => c.name).join(', ');
      else await withClient(connectionFor(target, 'postgres'), (c) => c.query('SELECT pg_reload_conf()'));
    }
    // Say why: which declared extensions need each changed setting.
    const reasons = settingReasons(ctx.config);
    const notes = [...plan.changes.flatMap((c) => (reasons[c.name] ? [`${c.name}: needed by ${reasons[c.name]!.join(', ')}`] : [])), ...kept];
    return { changes: plan.changes.map(describeSettingChange), notes };
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
      if (!ctx.restartReason) return { notes };
      ctx.log(`restarting for ${ctx.restartReason}`);
      await cluster.stop();
      await cluster.start(ctx.config.port);
      const reason = ctx.restartReason;
      ctx.restartReason = undefined;
      return { changes: [`restarted the server (${reason} ${reason.includes(',') ? 'take' : 'takes'} effect only at start)`] };
    }
    const { recoveredStalePid } = await cluster.start(ctx.config.port);
    if (recoveredStalePid !== undefined) notes.push(`removed a stale postmaster.pid (pid ${recoveredStalePid} was not running)`);
    writePgpass(layout, ctx.config);
    if (!fs.existsSync(socketPath(layout.socketDir, ctx.config.port))) notes.push(`no socket in ${layout.socketDir}: TCP only`);
    return { changes: [`started PostgreSQL ${target.binaries.version} on 127.0.0.1:${ctx.config.port}, socket in ${layout.socketDir}`], notes };
  },
};
