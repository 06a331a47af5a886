/**
 * pgstrap's command line: argv parsing and the command table only. Each command is a function in
 * scripts/commands/; errors are rendered once, here.
 */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ExitCode, isPgstrapError, PgstrapError } from './shared/errors.ts';
import { fullDiskRemedy } from './server/disk.ts';
import { ENGINE_CHOICES, type EngineChoice } from './config/types.ts';
import type { MigrateFlags } from './commands/migrate.ts';
import type { CommonOptions } from './pipeline/project.ts';
import { processOutput } from './shared/output.ts';
import { rememberUrlSecrets } from './shared/secrets.ts';
import { errorJson, renderError } from './shared/render-error.ts';

type Values = Record<string, string | boolean | string[] | undefined>;

// Each command's module loads only when that command runs: loading every command's dependencies (listr2,
// execa, the benchmarks) took longer than a warm doctor or setup does in total.
const commands = {
  bench: () => import('./commands/bench.ts'),
  doctor: () => import('./commands/doctor.ts'),
  env: () => import('./commands/env.ts'),
  init: () => import('./commands/init.ts'),
  lifecycle: () => import('./commands/lifecycle.ts'),
  migrate: () => import('./commands/migrate.ts'),
  setup: () => import('./commands/setup.ts'),
  verify: () => import('./commands/verify.ts'),
  reset: () => import('./commands/reset.ts'),
  logs: () => import('./commands/logs.ts'),
  psql: () => import('./commands/psql.ts'),
  testDatabases: () => import('./commands/test-databases.ts'),
};

/** One verb: its summary for --help, its own flags, and the function that does the work. */
interface CommandSpec {
  summary: string;
  usage?: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  /**
   * Words after the flags it takes: `some` (migrate:new's name), or `after --` (psql's arguments, passed on as
   * they are); none when absent, so a stray word is an error.
   */
  positionals?: 'some' | 'after --';
  run(common: CommonOptions, values: Values, positionals: string[]): Promise<number>;
}

const COMMON_OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  target: { type: 'string' },
  'direct-url': { type: 'string' },
  engine: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

const MIGRATE_OPTIONS = {
  'dry-run': { type: 'boolean' },
  accept: { type: 'string', multiple: true },
  retry: { type: 'string', multiple: true },
  database: { type: 'string' },
  'lock-timeout': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** The migrate commands' flags from parsed argv. */
function migrateFlags(values: Values): MigrateFlags {
  return {
    dryRun: values['dry-run'] as boolean | undefined,
    accept: values.accept as string[] | undefined,
    retry: values.retry as string[] | undefined,
    database: values.database as string | undefined,
    lockTimeout: values['lock-timeout'] as string | undefined,
  };
}

export const COMMANDS: Record<string, CommandSpec> = {
  init: {
    summary: 'Set this app up for pgstrap: config, flake, .envrc, .gitignore, npm scripts, migrations/ (never overwrites a file)',
    usage: '[--dry-run]',
    options: { 'dry-run': { type: 'boolean' } },
    run: async (c, v) => (await commands.init()).initCommand(c, { dryRun: v['dry-run'] === true }),
  },
  setup: { summary: 'Initialise and start the cluster, create databases, enable extensions, uuidv7(), migrations, verify', run: async (c) => (await commands.setup()).setupCommand(c) },
  start: { summary: 'Start the project-local cluster (initialising it if needed)', run: async (c) => (await commands.lifecycle()).startCommand(c) },
  stop: { summary: 'Stop the project-local cluster', run: async (c) => (await commands.lifecycle()).stopCommand(c) },
  status: { summary: 'Show whether the cluster runs, with pid, port, version, data directory and log file', run: async (c) => (await commands.lifecycle()).statusCommand(c) },
  env: {
    summary: 'Print PGHOST, PGPORT, PGUSER, PGDATABASE, PGDATA, PGPASSFILE and DATABASE_URL (shell exports, a .env file or JSON)',
    usage: '[--database NAME] [--format shell|dotenv|json] [--socket]',
    options: { database: { type: 'string' }, format: { type: 'string' }, socket: { type: 'boolean' } },
    run: async (c, v) =>
      (await commands.env()).envCommand(c, { database: v.database as string | undefined, format: v.format as string | undefined, socket: v.socket as boolean | undefined }),
  },
  verify: { summary: 'Check uuidv7() in every database: strategy, 10,000 ids, a key default, and the SQL fallback', run: async (c) => (await commands.verify()).verifyCommand(c) },
  doctor: {
    summary: 'Check the toolchain, config, cluster, connections and databases; name the fix for each problem',
    usage: '[--fix] [--strict]',
    options: { fix: { type: 'boolean' }, strict: { type: 'boolean' } },
    run: async (c, v) => (await commands.doctor()).doctorCommand(c, { fix: v.fix === true, strict: v.strict === true }),
  },
  migrate: {
    summary: 'Apply pending migrations (each in its own transaction), then migrations.command',
    usage: '[--dry-run] [--accept VERSION]... [--retry VERSION]... [--database NAME] [--lock-timeout SECONDS]',
    options: MIGRATE_OPTIONS,
    run: async (c, v) => (await commands.migrate()).migrateCommand(c, migrateFlags(v)),
  },
  'migrate:status': {
    summary: 'List applied, pending and drifted migrations per database; exit 6 when not up to date',
    usage: '[--database NAME]',
    options: { database: { type: 'string' } },
    run: async (c, v) => (await commands.migrate()).migrateStatusCommand(c, migrateFlags(v)),
  },
  'migrate:new': {
    summary: 'Create the next migration file: migrations/<timestamp>_<name>.sql',
    usage: '<name> [--database NAME]',
    options: { database: { type: 'string' } },
    positionals: 'some',
    run: async (c, v, p) => (await commands.migrate()).migrateNewCommand(c, migrateFlags(v), p),
  },
  'migrate:down': {
    summary: 'Revert the last applied migration with its down section',
    usage: '[--dry-run] [--database NAME] [--lock-timeout SECONDS]',
    options: { 'dry-run': { type: 'boolean' }, database: { type: 'string' }, 'lock-timeout': { type: 'string' } },
    run: async (c, v) => (await commands.migrate()).migrateDownCommand(c, migrateFlags(v)),
  },
  'db:reset': {
    summary: 'Drop and recreate the database(s), then extensions, uuidv7(), migrations and seeds, as setup would',
    usage: '[--database NAME] [--yes-drop NAME]...',
    options: { database: { type: 'string' }, 'yes-drop': { type: 'string', multiple: true } },
    run: async (c, v) => (await commands.reset()).resetCommand(c, { database: v.database as string | undefined, yesDrop: v['yes-drop'] as string[] | undefined }),
  },
  'db:seed': {
    summary: 'Apply the seed files (seeds/*.sql) in name order, each in a transaction',
    usage: '[--database NAME]',
    options: { database: { type: 'string' } },
    run: async (c, v) => (await commands.reset()).seedCommand(c, { database: v.database as string | undefined }),
  },
  'db:logs': {
    summary: "Print the project cluster's server log; --follow keeps printing what it adds",
    usage: '[--follow] [--lines N]',
    options: { follow: { type: 'boolean', short: 'f' }, lines: { type: 'string' } },
    run: async (c, v) => (await commands.logs()).logsCommand(c, { follow: v.follow === true, lines: v.lines as string | undefined }),
  },
  psql: {
    summary: 'Run a psql that fits the server, connected to the database; words after -- go to psql',
    usage: '[--database NAME] [-- psql arguments]',
    options: { database: { type: 'string' } },
    positionals: 'after --',
    run: async (c, v, p) => (await commands.psql()).psqlCommand(c, { database: v.database as string | undefined, args: p }),
  },
  'db:prune-test': {
    summary: 'Drop test databases left by runs whose process is gone (pgstrap/testing); --all also drops templates and kept ones',
    usage: '[--all]',
    options: { all: { type: 'boolean' } },
    run: async (c, v) => (await commands.testDatabases()).pruneTestCommand(c, { all: v.all === true }),
  },
  bench: {
    summary: 'Measure what UUIDv7 keys buy against v4 on this server (table, --json, SVG chart); --all adds setup, doctor and migration figures',
    usage: '[--rows N] [--driver auto|node|pgbench] [--chart FILE] [--all] [--yes] [--json]',
    options: { rows: { type: 'string' }, driver: { type: 'string' }, chart: { type: 'string' }, all: { type: 'boolean' }, yes: { type: 'boolean' } },
    run: async (c, v) => (await commands.bench()).benchCommand(c, { rows: v.rows as string | undefined, driver: v.driver as string | undefined, chart: v.chart as string | undefined, all: v.all as boolean | undefined, yes: v.yes as boolean | undefined }),
  },
};


function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(width)}  ${spec.summary}`);
  return [
    'usage: pgstrap <command> [--config FILE] [--json] [--url URL | --target NAME] [--direct-url URL] [--engine auto|system|embedded|external]',
    '',
    'commands:',
    ...lines,
    '',
    'Exit codes: 0 ok, 1 failed check, 2 usage/config, 3 environment, 4 cluster, 5 database, 6 pending migrations.',
  ].join('\n');
}

function usageError(message: string): PgstrapError {
  return new PgstrapError({ code: 'usage', message, remedy: 'Run `npm run pgstrap -- --help` for the commands and flags.', exit: ExitCode.usage });
}

/** Names the words a command does not take; a flag after `--` most often comes from one `--` too many. */
function strayMessage(command: string, args: string[], stray: string[]): string {
  const words = stray.map((w) => `"${w}"`).join(', ');
  const afterSeparator = args.includes('--') && stray.some((w) => w.startsWith('-'));
  const why = afterSeparator ? ' (after a `--`, so not read as a flag: `npm run <script> -- --flag` needs one `--` only)' : '';
  return `${command} takes no argument ${words}${why}`;
}

/** Parses argv and runs one command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const json = rest.includes('--json');
  // The run's one writer: usage, errors, and (unless argv says otherwise, below) the command's output.
  const output = processOutput({ json });
  // Help is text even with --json, as it always was.
  const sayHelp = (text: string) => (output.mode === 'json' ? processOutput({}) : output).say(text);
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      sayHelp(usage());
      return name === undefined ? ExitCode.usage : ExitCode.ok;
    }
    const spec = COMMANDS[name];
    if (!spec) throw usageError(`unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: { ...COMMON_OPTIONS, ...spec.options }, allowPositionals: true, strict: true });
    } catch (error) {
      throw usageError((error as Error).message);
    }
    const values = parsed.values as Values;
    // Before anything can fail: an error of this run never shows the password of a URL it was given.
    rememberUrlSecrets(values.url as string | undefined);
    rememberUrlSecrets(values['direct-url'] as string | undefined);
    rememberUrlSecrets(process.env.PGSTRAP_DIRECT_URL);
    rememberUrlSecrets(process.env.PGSTRAP_URL);
    // Words after the first `--` are the command's to pass on (psql's), flags or not.
    const passed = spec.positionals === 'after --' && rest.includes('--') ? rest.slice(rest.indexOf('--') + 1) : [];
    const stray = spec.positionals === 'some' ? [] : parsed.positionals.slice(0, parsed.positionals.length - passed.length);
    if (stray.length > 0) throw usageError(strayMessage(name, rest, stray));
    if (values.help) {
      sayHelp(`usage: pgstrap ${name} ${spec.usage ?? ''}\n${spec.summary}`);
      return ExitCode.ok;
    }
    const engine = values.engine as string | undefined;
    if (engine !== undefined && !(ENGINE_CHOICES as readonly string[]).includes(engine)) throw usageError(`--engine must be one of ${ENGINE_CHOICES.join(', ')}`);
    const common: CommonOptions = {
      config: values.config as string | undefined,
      json: values.json as boolean | undefined,
      url: values.url as string | undefined,
      target: values.target as string | undefined,
      directUrl: values['direct-url'] as string | undefined,
      engine: engine as EngineChoice | undefined,
      // A `--json` after `--` is a word (of migrate:new's name), not the flag.
      output: Boolean(values.json) === json ? output : processOutput({ json: values.json as boolean | undefined }),
    };
    return await spec.run(common, values, spec.positionals === 'after --' ? passed : parsed.positionals);
  } catch (thrown) {
    const error = diskFull(thrown) ?? thrown;
    if (output.mode === 'json') output.json({ ok: false, error: errorJson(error) });
    else output.error(renderError(error, output.colour.err));
    return error instanceof PgstrapError ? error.exit : ExitCode.failure;
  }
}

/**
 * A write the disk refused (ENOSPC, or EDQUOT: over quota) wherever pgstrap made it (its state folder's files,
 * the lock): said as a full disk with what to do, not as a bug. Writes whose failure is worse than that
 * (initdb, the server's) have errors of their own.
 */
function diskFull(error: unknown): PgstrapError | undefined {
  const { code, path: file, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (isPgstrapError(error) || (code !== 'ENOSPC' && code !== 'EDQUOT')) return undefined;
  return new PgstrapError({
    code: 'disk.full',
    message: `${code === 'EDQUOT' ? 'over the disk quota' : 'no space left on the disk'}${file === undefined ? '' : ` writing ${file}`}${syscall ? ` (${syscall})` : ''}`,
    remedy: fullDiskRemedy(file === undefined ? process.cwd() : path.dirname(file), 'run the same command again: what it had started to write was removed'),
    exit: ExitCode.environment,
    cause: error,
  });
}

// Run when executed directly (not when imported by tests).
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
