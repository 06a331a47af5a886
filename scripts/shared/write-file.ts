/** Writing a file so that a reader sees the old content or the new one, never half of it. */
import fs from 'node:fs';

/**
 * Writes `text` to a temporary file beside `file` and renames it over `file`. A failed write (a full disk,
 * say) removes what it started and throws: no half-written file is left, under either name. `mode` is the new
 * file's (default 0644, less the umask). The temporary name is `<file>.<pid>.tmp`, so two processes writing at
 * once never share one; `stable` makes it `<file>.tmp`, for a file written only under the project lock, where
 * the next run overwrites what a run killed between the write and the rename left (the password file).
 */
export function writeFileAtomic(file: string, text: string, options: { mode?: number; stable?: boolean } = {}): void {
  const temporary = options.stable ? `${file}.tmp` : `${file}.${process.pid}.tmp`;
  // A leftover of a killed run goes first; then the name must be new (`wx`): a link planted there is refused,
  // not followed.
  fs.rmSync(temporary, { force: true });
  try {
    fs.writeFileSync(temporary, text, { mode: options.mode ?? 0o644, flag: 'wx' });
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}
