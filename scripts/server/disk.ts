/**
 * A full disk as the user meets it: initdb, the server's start or a write fails with ENOSPC ("No space left on
 * device"), or the disk is nearly full. What it looks like, and the remedy, said the same way everywhere. Pure.
 */

/** Below this much free space the server may stop working: a new WAL segment alone is 16 MB. */
export const LOW_DISK_BYTES = 64 * 1024 * 1024;

/** Whether a program's output (initdb's, the server log's tail) says the disk was full. */
export function saysDiskFull(output: string | readonly string[]): boolean {
  return /No space left on device/.test(typeof output === 'string' ? output : output.join('\n'));
}

/** The remedy for a full disk under `dir`; `then` is what to run once there is space. */
export function fullDiskRemedy(dir: string, then: string, state: 'full' | 'nearly full' = 'full'): string {
  return `The disk that holds ${dir} is ${state} (\`df -h ${dir}\`): free space there, or point stateDir at another disk; then ${then}.`;
}

/** A byte count as people read it: 8.0 KB, 3.5 MB, 1.2 GB. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
