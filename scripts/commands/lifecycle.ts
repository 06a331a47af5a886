/** `db:start`, `db:stop`, `db:status`: the cluster alone. */
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import type { ClusterStatus, LiveServer } from '../server/cluster.ts';
import { describeEngine, type ManagedTarget, type Target } from '../server/target.ts';
import { openProject, withProject, type CommonOptions } from '../pipeline/project.ts';

function requireManaged(target: Target, verb: string): ManagedTarget {
  if (target.kind !== 'external') return target;
  throw new PgstrapError({
    code: 'engine.no-lifecycle',
    message: `cannot ${verb} an external server: pgstrap only manages the lifecycle of its own cluster`,
    remedy: 'Drop --url / PGSTRAP_URL to act on the project-local cluster.',
    exit: ExitCode.usage,
  });
}

/** Initialises the cluster if needed and starts it. */
export async function startCommand(options: CommonOptions): Promise<ExitCode> {
  return withProject(options, 'db:start', async (project) => {
    requireManaged(project.target, 'start');
    // Loaded here, not with the module: the steps bring pg, listr2 and every stage, which stop and status
    // never use (a third of a stop's load).
    const { runPipeline, START_STEPS } = await import('../pipeline/steps.ts');
    return (await runPipeline(project, START_STEPS)).exit;
  });
}

/** Stops the cluster (fast shutdown). */
export async function stopCommand(options: CommonOptions): Promise<ExitCode> {
  return withProject(options, 'db:stop', async ({ target, output }) => {
    const stopped = await requireManaged(target, 'stop').cluster.stop();
    if (output.mode === 'json') output.json({ ok: true, stopped });
    else output.say(stopped ? 'Stopped the cluster.' : 'Nothing to do: the cluster is not running.');
    return ExitCode.ok;
  });
}

/** One line for db:status: what the data directory and its server are doing, and what to run about it. */
function describeState(status: ClusterStatus, orphan: LiveServer | undefined): string {
  if (orphan) return `the data directory is gone while its server (pid ${orphan.pid}) still runs: stop it (kill -INT ${orphan.pid}), then npm run setup`;
  if (status.standalonePid !== undefined) return `a standalone backend (pid ${status.standalonePid}) is using the data directory`;
  if (status.partial) return 'half made by an interrupted run (npm run setup moves it aside and makes it anew)';
  if (!status.initialised) return 'not initialised (npm run setup creates it)';
  if (status.running) return `running (pid ${status.pid})`;
  if (status.stalePid !== undefined) return `stopped, with a stale postmaster.pid (pid ${status.stalePid}); npm run db:start recovers it`;
  return 'stopped (npm run db:start starts it)';
}

/** Reports whether the cluster runs; exit 0 when it does, 1 when it does not. */
export async function statusCommand(options: CommonOptions): Promise<ExitCode> {
  const { target, output } = await openProject(options);
  const managed = requireManaged(target, 'report the status of');
  const status = managed.cluster.status();
  const orphan = status.initialised ? undefined : await managed.cluster.liveServerElsewhere(managed.config.port);
  const facts = {
    engine: describeEngine(managed),
    running: status.running,
    pid: status.pid ?? null,
    port: status.port ?? managed.config.port,
    portSource: managed.config.portSource ?? 'config',
    version: managed.binaries.version,
    initialised: status.initialised,
    dataDir: status.dataDir,
    socketDir: status.socketDir ?? managed.layout.socketDir,
    logFile: status.logFile,
    stalePid: status.stalePid ?? null,
    runAs: managed.user?.name ?? null,
    standalonePid: status.standalonePid ?? null,
    partial: status.partial,
    orphanPid: orphan?.pid ?? null,
  };
  if (output.mode === 'json') output.json(facts);
  else {
    const state = describeState(status, orphan);
    const rows: Array<[string, string]> = [
      ['state', state],
      ['engine', facts.engine],
      ['port', `127.0.0.1:${facts.port}${facts.portSource === 'project-folder' ? ' (derived from the project folder)' : ''}`],
      ['socket', facts.socketDir],
      ['data', facts.dataDir],
      ['log', facts.logFile],
    ];
    if (facts.runAs) rows.push(['runs as', facts.runAs]);
    for (const [k, v] of rows) output.say(`${k.padEnd(8)} ${v}`);
  }
  return status.running ? ExitCode.ok : ExitCode.failure;
}
