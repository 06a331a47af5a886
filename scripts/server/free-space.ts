/** How much room the file system holding a folder has left (statfs); the verdicts on it are in disk.ts. */
import fs from 'node:fs';
import { LOW_DISK_BYTES } from './disk.ts';

/**
 * Free bytes (for an unprivileged user), the size and the type (statfs f_type: 0x01021994 for a tmpfs) of the
 * file system holding `dir`, or undefined when it cannot be read.
 */
export function freeSpace(dir: string): { free: number; total: number; type: number } | undefined {
  try {
    const stats = fs.statfsSync(dir);
    return { free: stats.bavail * stats.bsize, total: stats.blocks * stats.bsize, type: stats.type };
  } catch {
    return undefined;
  }
}

/** Whether the disk holding `dir` is too full for the server to work: under LOW_DISK_BYTES free. */
export function isDiskLow(dir: string): boolean {
  const space = freeSpace(dir);
  return space !== undefined && space.free < LOW_DISK_BYTES;
}
