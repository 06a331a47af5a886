/** How much room the file system holding a folder has left (statfs); the verdicts on it are in disk.ts. */
import fs from 'node:fs';
import { LOW_DISK_BYTES } from './disk.ts';

/** Free bytes (for an unprivileged user) and the size of the file system holding `dir`, or undefined when it cannot be read. */
export function freeSpace(dir: string): { free: number; total: number } | undefined {
  try {
    const stats = fs.statfsSync(dir);
    return { free: stats.bavail * stats.bsize, total: stats.blocks * stats.bsize };
  } catch {
    return undefined;
  }
}

/** Whether the disk holding `dir` is too full for the server to work: under LOW_DISK_BYTES free. */
export function isDiskLow(dir: string): boolean {
  const space = freeSpace(dir);
  return space !== undefined && space.free < LOW_DISK_BYTES;
}
