/** `db:start`, `db:stop`, `db:status`: the cluster alone. */
import { ExitCode, PgstrapError } from '../core/errors.ts';
import { describeEngine, type ManagedTarget, type Target } from '../engines/target.ts';
import { openProject, printJson, type CommonOptions } from './options.ts';
import { runPipeline, START_STEPS } from './setup.ts';

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
  const project = await openProject(options);
  requireManaged(project.target, 'start');
  return (await runPipeline(project, START_STEPS)).exit;
}

/** Stops the cluster (fast shutdown). */
export async function stopCommand(options: CommonOptions): Promise<ExitCode> {
  const { target, mode } = await openProject(options);
  const stopped = await requireManaged(target, 'stop').cluster.stop();
  if (mode === 'json') printJson({ ok: true, stopped });
  else process.stdout.write(stopped ? 'Stopped the cluster.\n' : 'Nothing to do: the cluster is not running.\n');
  return ExitCode.ok;
}

/** Reports whether the cluster runs; exit 0 when it does, 1 when it does not. */
export async function statusCommand(options: CommonOptions): Promise<ExitCode> {
  const { target, mode } = await openProject(options);
  const managed = requireManaged(target, 'report the status of');
  const status = managed.cluster.status();
  const facts = {
    engine: describeEngine(managed),
    running: status.running,
    pid: status.pid ?? null,
    port: status.port ?? managed.config.port,
    version: managed.binaries.version,
    initialised: status.initialised,
    dataDir: status.dataDir,
    socketDir: status.socketDir ?? managed.layout.socketDir,
    logFile: status.logFile,
    stalePid: status.stalePid ?? null,
    runAs: managed.user?.name ?? null,
  };
  if (mode === 'json') printJson(facts);
  else {
    const state = !status.initialised
      ? 'not initialised (npm run setup creates it)'
      : status.running
        ? `running (pid ${status.pid})`
        : status.stalePid !== undefined
          ? `stopped, with a stale postmaster.pid (pid ${status.stalePid}); npm run db:start recovers it`
          : 'stopped (npm run db:start starts it)';
    const rows: Array<[string, string]> = [
      ['state', state],
      ['engine', facts.engine],
      ['port', `127.0.0.1:${facts.port}`],
      ['socket', facts.socketDir],
      ['data', facts.dataDir],
      ['log', facts.logFile],
    ];
    if (facts.runAs) rows.push(['runs as', facts.runAs]);
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(8)} ${v}\n`);
  }
  return status.running ? ExitCode.ok : ExitCode.failure;
}
