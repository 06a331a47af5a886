/** Steps for a managed cluster's lifecycle: initdb, the managed settings file, start. */
import fs from 'node:fs';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { socketPath } from '../server/layout.ts';
import { describeSettingChange, listenSettings, planSettings } from '../server/conf.ts';
import { describeRetained, settingReasons } from '../extensions/settings.ts';

import { maintenanceDatabase, type ManagedTarget } from '../server/target.ts';
import { readSettingsAndRole } from '../server/read-settings.ts';
import { describeSettingDrift, planSettingDrift } from '../server/setting-values.ts';
import type { StepOutcome } from '../pipeline/report.ts';
import { writePgpass } from '../server/client-env.ts';
import { loopbackHosts } from '../server/port.ts';
import { withSession, type RunContext, type Step } from '../pipeline/step.ts';
import { knownSettings, targetSettings, assertSettingsAccepted } from './settings.ts';
import { pendingRestart } from '../pipeline/report.ts';

/** Only managed clusters have a lifecycle. */
function skipExternal(ctx: RunContext): string | undefined {
  return ctx.target.kind === 'external' ? 'external server: no lifecycle' : undefined;
}

function managed(ctx: RunContext): ManagedTarget {
  if (ctx.target.kind === 'external') throw new Error('a lifecycle step ran on an external target');
  return ctx.target;
}

/** Refuses a data directory of another major version: pgstrap never converts or deletes data. */
function assertDataMajor(target: ManagedTarget): void {
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
async function assertNoLiveServer(target: ManagedTarget, port: number): Promise<void> {
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
      assertDataMajor(target);
      return { notes };
    }
    await assertNoLiveServer(target, ctx.config.port);
    // While initdb runs, the server checks the settings: a name or value it refuses stops initdb, and leaves no
    // cluster behind. Only where to listen goes in now: the settings step writes the rest, before the first start.
    const accepted = targetSettings(ctx.config, target).then(({ settings }) => assertSettingsAccepted(ctx, target, settings));
    accepted.catch(() => {}); // awaited by initialise
    const changes: string[] = [];
    // A half-made cluster an older pgstrap left is moved aside only for settings the server takes.
    if (target.cluster.status().partial) await accepted;
    const aside = target.cluster.setAsidePartial();
    if (aside) changes.push(`moved a half-made cluster an interrupted run left aside to ${aside}`);
    ctx.log(`initdb ${target.layout.dataDir}`);
    await target.cluster.initialise(listenSettings(ctx.config.port, target.layout.socketDir, await loopbackHosts()), accepted);
    writePgpass(target.layout, ctx.config);
    return { changes: [...changes, `initialised ${target.layout.dataDir} with ${target.binaries.origin}`], notes };
  },
};

/**
 * On a server pgstrap does not run, settings are compared, never changed: one note names each that differs and the
 * statement (ALTER DATABASE ... SET, ALTER SYSTEM) or provider setting that changes it.
 */
async function compareExternalSettings(ctx: RunContext): Promise<StepOutcome> {
  const { target, config } = ctx;
  const databases = target.databases.map((d) => d.name);
  const { settings, role } = await withSession(ctx, maintenanceDatabase(target), (c) => readSettingsAndRole(c, Object.keys(config.settings), databases));
  const line = describeSettingDrift(planSettingDrift(config.settings, settings, role, databases));
  return { notes: line === undefined ? [`settings in effect as configured: ${Object.keys(config.settings).join(', ')}`] : [line] };
}

export const settingsStep: Step = {
  id: 'settings',
  title: 'Apply server settings',
  skip(ctx) {
    return ctx.target.kind === 'external' && Object.keys(ctx.config.settings).length === 0 ? 'external server: no lifecycle, no settings in the config' : undefined;
  },
  async run(ctx) {
    if (ctx.target.kind === 'external') return compareExternalSettings(ctx);
    const target = managed(ctx);
    const { cluster } = target;
    const current = cluster.readManagedConf();
    const { settings: desired, retained } = await targetSettings(ctx.config, target, current);
    const kept = retained.map(describeRetained);
    // Only a changed file needs the server's list of settings, so a warm run spawns nothing here.
    const sameKeys = JSON.stringify(current) === JSON.stringify(desired);
    if (sameKeys) return { notes: kept };
    const known = await knownSettings(target);
    await assertSettingsAccepted(ctx, target, desired, known);
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
