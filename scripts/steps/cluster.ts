/** Steps for a managed cluster's lifecycle: initdb, the managed settings file, start. */
import fs from 'node:fs';
import type { ResolvedConfig } from '../core/config/types.ts';
import { ExitCode, PgstrapError } from '../core/errors.ts';
import { socketPath } from '../core/layout.ts';
import {
  describeSettingChange,
  parseDescribeConfig,
  planSettings,
  unknownSettings,
  type SettingDefinition,
} from '../core/server-settings.ts';
import { settingReasons, settingsForExtensions } from '../core/extension-settings.ts';
import { installedChecker } from '../core/extensions/installed.ts';
import { extraSearchDirs, readInstalledFiles } from '../engines/extension-files.ts';
import { describeConfig } from '../engines/binaries.ts';
import { listenSettings } from '../engines/cluster.ts';
import type { ManagedTarget } from '../engines/target.ts';
import { writePgpass } from '../engines/client-env.ts';
import { withSession, type RunContext, type Step } from './step.ts';

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
export function desiredSettings(config: ResolvedConfig, socketDir: string, isInstalled?: (name: string) => boolean): Record<string, string> {
  return { ...listenSettings(config.port, socketDir), ...config.settings, ...settingsForExtensions(config, isInstalled) };
}

/** desiredSettings for a managed target, counting only the extensions its binaries have installed. */
export async function targetSettings(config: ResolvedConfig, target: ManagedTarget): Promise<Record<string, string>> {
  return desiredSettings(config, target.layout.socketDir, installedChecker(await readInstalledFiles(target.binaries, extraSearchDirs(config.settings))));
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
    const desired = await targetSettings(ctx.config, target);
    // Only a changed file needs the server's list of settings, so a warm run spawns nothing here.
    const sameKeys = JSON.stringify(current) === JSON.stringify(desired);
    if (sameKeys) return {};
    const known = parseDescribeConfig(await describeConfig(target.binaries.binDir));
    verifySettingNames(ctx.config, Object.keys(desired), known, target.binaries.version);
    const plan = planSettings(current, desired, known);
    for (const change of plan.changes) ctx.log(describeSettingChange(change));
    cluster.writeManagedConf(desired);
    const status = cluster.status();
    if (status.running) {
      if (plan.restart) ctx.restartReason = plan.changes.filter((c) => c.restart).map((c) => c.name).join(', ');
      else await withSession(ctx, 'postgres', (c) => c.query('SELECT pg_reload_conf()'));
    }
    // Say why: which declared extensions need each changed setting.
    const reasons = settingReasons(ctx.config);
    const notes = plan.changes.flatMap((c) => (reasons[c.name] ? [`${c.name}: needed by ${reasons[c.name]!.join(', ')}`] : []));
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
      await ctx.sessions?.closeAll();
      await cluster.stop();
      await cluster.start(ctx.config.port);
      const reason = ctx.restartReason;
      ctx.restartReason = undefined;
      return { changes: [`restarted the server (${reason} take effect only at start)`] };
    }
    const { recoveredStalePid } = await cluster.start(ctx.config.port);
    if (recoveredStalePid !== undefined) notes.push(`removed a stale postmaster.pid (pid ${recoveredStalePid} was not running)`);
    writePgpass(layout, ctx.config);
    if (!fs.existsSync(socketPath(layout.socketDir, ctx.config.port))) notes.push(`no socket in ${layout.socketDir}: TCP only`);
    return { changes: [`started PostgreSQL ${target.binaries.version} on 127.0.0.1:${ctx.config.port}, socket in ${layout.socketDir}`], notes };
  },
};
