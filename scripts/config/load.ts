/** Finds and loads `extensions.config.ts` (or .mts/.js/.mjs) with cosmiconfig, then validates it. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import { ExitCode, messageOf, PgstrapError } from '../core/errors.ts';
import { resolveConfig } from '../core/config/validate.ts';
import type { ResolvedConfig } from '../core/config/types.ts';

export const CONFIG_FILES = [
  'extensions.config.ts',
  'extensions.config.mts',
  'extensions.config.js',
  'extensions.config.mjs',
] as const;

// Under tsx (tests, `node --import tsx`) import() loads TypeScript itself; from the bundled CLI, Node cannot,
// so the config (and whatever it imports) is bundled by esbuild once and cached until it changes.
const importModule: Loader = async (filepath) => {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(filepath).href)) as { default?: unknown };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    const { cacheDirOf, ensureBundle } = await import('../bundle.mjs');
    mod = (await import(pathToFileURL(await ensureBundle(filepath, cacheDirOf(path.dirname(filepath)))).href)) as { default?: unknown };
  }
  return mod.default ?? mod;
};

/** Loads the config named by `explicitPath`, or the nearest one from `cwd` up to the project root. */
export async function loadConfig(options: { cwd: string; explicitPath?: string | undefined }): Promise<ResolvedConfig> {
  const explorer = cosmiconfig('extensions', {
    searchPlaces: [...CONFIG_FILES],
    searchStrategy: 'project',
    loaders: { '.ts': importModule, '.mts': importModule, '.js': importModule, '.mjs': importModule },
    cache: false,
  });
  let result;
  const file = options.explicitPath ? path.resolve(options.cwd, options.explicitPath) : undefined;
  try {
    result = file ? await explorer.load(file) : await explorer.search(options.cwd);
  } catch (error) {
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
  if (!result || result.isEmpty) {
    // No file: every default applies, relative to the working directory.
    return resolveConfig(result?.config, { file: result?.filepath, projectDir: result ? path.dirname(result.filepath) : options.cwd });
  }
  return resolveConfig(result.config, { file: result.filepath, projectDir: path.dirname(result.filepath) });
}
