/** Options every command shares, and how a command opens the project they point at. */
import { loadConfig } from '../config/load.ts';
import type { EngineChoice, ResolvedConfig, ResolvedDatabase } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { withTargetLock } from '../server/project-lock.ts';
import { selectPlace, selectTarget, type EngineOverrides } from '../server/select.ts';
import type { ExternalTarget, ManagedPlace, Target } from '../server/target.ts';
import { processOutput, type Output } from '../shared/output.ts';

/** Flags shared by all commands. */
export interface CommonOptions {
  /** Path to the config file (--config). */
  config?: string | undefined;
  /** Emit one JSON document (--json). */
  json?: boolean | undefined;
  /** External server URL (--url). */
  url?: string | undefined;
  /** A server the config names in `targets` (--target). */
  target?: string | undefined;
  /** The server without a pooler, for migrations (--direct-url). */
  directUrl?: string | undefined;
  /** Engine override (--engine). */
  engine?: EngineChoice | undefined;
  /** Working directory the config is searched from. */
  cwd?: string | undefined;
  /** Where the command writes; the process's stdout and stderr (by --json) when absent. */
  output?: Output | undefined;
}

/** The Output the options carry, or the process's own for their --json. */
export function outputOf(options: CommonOptions): Output {
  return options.output ?? processOutput(options);
}

/** The loaded config, the target it resolves to, and where the command writes. */
export interface Project {
  config: ResolvedConfig;
  target: Target;
  output: Output;
}

/** The config the options point at, and what they add to its choice of server. */
async function configAndOverrides(options: CommonOptions): Promise<{ config: ResolvedConfig; overrides: EngineOverrides }> {
  const config = await loadConfig({ cwd: options.cwd ?? process.cwd(), explicitPath: options.config });
  return { config, overrides: { engine: options.engine, url: options.url, target: options.target, directUrl: options.directUrl } };
}

/** Loads the config and resolves the engine; touches nothing on disk but the state folder. */
export async function openProject(options: CommonOptions): Promise<Project> {
  const { config, overrides } = await configAndOverrides(options);
  return { config, target: await selectTarget(config, overrides), output: outputOf(options) };
}

/** Loads the config and finds where its server is, without resolving the engine (what `env` needs). */
export async function openPlace(options: CommonOptions): Promise<{ config: ResolvedConfig; target: ExternalTarget | ManagedPlace; output: Output }> {
  const { config, overrides } = await configAndOverrides(options);
  return { config, target: await selectPlace(config, overrides), output: outputOf(options) };
}

/**
 * Opens the project and runs `fn` holding the project lock, under the name `command`, when the target is
 * the project's own cluster (an external server has its own locks: the migrations' advisory lock).
 */
export async function withProject<T>(options: CommonOptions, command: string, fn: (project: Project) => Promise<T>): Promise<T> {
  const project = await openProject(options);
  return withTargetLock(project.target, command, project.output, () => fn(project));
}

/** The databases a command acts on: all the target manages, or the one `--database` names. */
export function selectDatabases(target: Pick<Target, 'databases'>, name: string | undefined): ResolvedDatabase[] {
  if (name === undefined) return target.databases;
  const db = target.databases.find((d) => d.name === name);
  if (!db) throw new PgstrapError({
      code: 'usage',
      message: `--database ${name}: not one of ${target.databases.map((d) => d.name).join(', ')}`,
      remedy: 'Name a database from the config (or the one the URL names).',
      exit: ExitCode.usage,
    });
  return [db];
}
