/**
 * What a managed cluster's settings file should hold (the config, the extensions installed, a preload still
 * in use), and the server's own check of it before anything is written.
 */
import fs from 'node:fs';
import type { ResolvedConfig } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import {
  acceptedValues,
  directiveNames,
  OUTPUT_PLUGIN_SETTING,
  parseConfigCheck,
  parseLibraryList,
  PRELOAD_SETTING,
  preloadLibraryNames,
  renderManagedConf,
  type SettingDefinition,
  START_LIBRARY_SETTINGS,
} from '../server/conf.ts';
import { quoteLiteral } from '../shared/identifiers.ts';
import { catalogued, desiredSettings, retainSettingsInUse, type RetainedExtension } from '../extensions/settings.ts';
import { readInstalledExtensions } from '../extensions/server.ts';
import { installedChecker } from '../extensions/installed.ts';
import { extraSearchDirs, readInstalledFiles } from '../extensions/files.ts';
import { probeConfigFile, readKnownSettings } from '../server/binaries.ts';

import { assertPortBindable, loopbackHosts } from '../server/port.ts';
import { connectionFor, type ManagedTarget } from '../server/target.ts';
import { withClient } from '../server/connection.ts';
import type { RunContext } from '../pipeline/step.ts';


/** The settings a managed target's binaries know (cached per binaries in the state folder). */
export function knownSettings(target: ManagedTarget): Promise<Map<string, SettingDefinition>> {
  return readKnownSettings(target.binaries, target.layout.programAnswers);
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
  const desired = desiredSettings(config, isInstalled, { socketDir: target.layout.socketDir, listenHosts: await loopbackHosts(), outputPluginDefault: allowed });
  if (current === undefined) return { settings: desired, retained: [] };
  const dropsPreload = parseLibraryList(current[PRELOAD_SETTING]).some((l) => !parseLibraryList(desired[PRELOAD_SETTING]).includes(l));
  if (!dropsPreload) return { settings: desired, retained: [] };
  const inUse = target.cluster.status().running ? await readExtensionsInUse(target) : undefined;
  return retainSettingsInUse(current, desired, inUse, isInstalled);
}

/** Fails on a preload library the installation lacks: `postgres -C` accepts it, but the server would not start. */
export async function assertStartLibraries(target: ManagedTarget, desired: Record<string, string>, where: (name: string) => string): Promise<void> {
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
const acceptedSettings = new WeakMap<RunContext['reports'], string>();

/**
 * Has the server itself parse the managed file pgstrap is about to write (`postgres -C` on a throwaway
 * copy), before initdb and before any write: an unknown name or a value it refuses fails here, naming
 * the key, the value and what the server accepts, and the cluster keeps a file it starts with. The port
 * must be one the (never root) server can bind.
 */
export async function assertSettingsAccepted(ctx: RunContext, target: ManagedTarget, desired: Record<string, string>, known?: Map<string, SettingDefinition>): Promise<void> {
  const conf = renderManagedConf(desired);
  if (acceptedSettings.get(ctx.reports) === conf) return;
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
  await assertPortBindable(ctx.config.port, target.user ? `"${target.user.name}"` : 'this user', ctx.config.file);
  await assertStartLibraries(target, desired, where);
  const refused = await probeConfigFile(target.binaries.binDir, conf, target.user);
  if (refused === undefined) {
    acceptedSettings.set(ctx.reports, conf);
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
