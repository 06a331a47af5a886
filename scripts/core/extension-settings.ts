/** Server settings the declared extensions need (shared_preload_libraries and the like). */
import type { ResolvedConfig } from './config/types.ts';

/** Settings implied by the config's extensions; the extension catalogue fills this in. */
export function settingsForExtensions(_config: ResolvedConfig): Record<string, string> {
  return {};
}
