/** Finds and loads `extensions.config.ts` (or .mts/.js/.mjs) with cosmiconfig, then validates it. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import { cacheDirOf, ensureBundle, importModule, UNSAFE_CACHE } from '../bundle.mjs';
import { ExitCode, isPgstrapError, messageOf, PgstrapError } from '../shared/errors.ts';
import { resolveConfig } from './validate.ts';
import { CONFIG_FILES, type ResolvedConfig } from './types.ts';

export { CONFIG_FILES };

/** A config file that gives no config: a mistake to name, never a silent "every default". */
function noDefaultExport(message: string): PgstrapError {
  return new PgstrapError({
    code: 'config.no-export',
    message,
    remedy: 'End it with `export default defineConfig({ ... })` (an empty object `{}` takes every default).',
    exit: ExitCode.usage,
  });
}

// Under tsx (tests, `node --import tsx`) import() loads TypeScript itself; from the bundled CLI, Node cannot,
// so the config (and whatever it imports) is bundled by esbuild once and cached until it changes.
const loadConfigFile: Loader = async (filepath) => {
  let mod: Record<string, unknown>;
  try {
    try {
      mod = (await importModule(pathToFileURL(filepath).href)) as Record<string, unknown>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
      mod = (await importModule(pathToFileURL(await ensureBundle(filepath, cacheDirOf(path.dirname(filepath)))).href)) as Record<string, unknown>;
    }
  } catch (error) {
    const { code, remedy } = error as { code?: unknown; remedy?: string };
    if (code === UNSAFE_CACHE) {
      throw new PgstrapError({ code: 'cache.unsafe', message: messageOf(error), remedy, exit: ExitCode.environment, cause: error });
    }
    // cosmiconfig passes a loader's error on as it is: name the file here, as a search does not say which it tried.
    throw new PgstrapError({
      code: 'config.unreadable',
      message: `could not load ${filepath}: ${messageOf(error)}`,
      remedy: 'Fix the syntax or the import in that file, or what its code throws; `npm run typecheck` shows TypeScript errors.',
      exit: ExitCode.usage,
      cause: error,
    });
  }
  // The config is the default export: a file without one (or with `export default undefined`) is a mistake, not "all defaults".
  if (mod.default === undefined || mod.default === null) {
    const named = Object.keys(mod).filter((k) => k !== 'default');
    throw noDefaultExport('default' in mod ? `${filepath} exports ${String(mod.default)} as its default` : `${filepath} has no default export${named.length > 0 ? ` (it exports ${named.join(', ')})` : ''}`);
  }
  return mod.default;
};

/** Loads the config named by `explicitPath`, or the nearest one from `cwd` up to the project root. */
export async function loadConfig(options: { cwd: string; explicitPath?: string | undefined }): Promise<ResolvedConfig> {
  const explorer = cosmiconfig('extensions', {
    searchPlaces: [...CONFIG_FILES],
    searchStrategy: 'project',
    // Every kind of file a config may be: cosmiconfig's own loaders call import(), which the CLI's bundle cannot (bundle.mjs#importModule).
    loaders: { '.ts': loadConfigFile, '.mts': loadConfigFile, '.cts': loadConfigFile, '.js': loadConfigFile, '.mjs': loadConfigFile, '.cjs': loadConfigFile },
    cache: false,
    // An empty config file is a mistake to name, not a search place to pass over.
    ignoreEmptySearchPlaces: false,
  });
  let result;
  const file = options.explicitPath ? path.resolve(options.cwd, options.explicitPath) : undefined;
  try {
    result = file ? await explorer.load(file) : await explorer.search(options.cwd);
  } catch (error) {
    if (isPgstrapError(error)) throw error;
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new PgstrapError({
      code: missing ? 'config.not-found' : 'config.unreadable',
      message: missing ? `config file ${file} does not exist` : `could not load ${file ?? 'the config file'}: ${messageOf(error)}`,
      remedy: missing
        ? `Check the --config path; without --config pgstrap looks for ${CONFIG_FILES.join(', ')}.`
        : 'Fix the syntax or the import in that file; `npm run typecheck` shows TypeScript errors.',
      exit: ExitCode.usage,
      cause: error,
    });
  }
  // No file: every default applies, relative to the working directory.
  if (!result) return resolveConfig(undefined, { file: undefined, projectDir: options.cwd });
  if (result.isEmpty) throw noDefaultExport(`${result.filepath} is empty`);
  return resolveConfig(result.config, { file: result.filepath, projectDir: path.dirname(result.filepath) });
}
