/** Reads a database's seed files, in name order. */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedSeeds } from '../config/types.ts';
import { decodeSqlBytes } from '../migrations/checksum.ts';
import { displayPath } from '../migrations/files.ts';
import { seedsFolderMissing } from './errors.ts';
import { orderSeedFiles, parseSeed, type SeedSource } from './source.ts';

/** Every seed of `seeds`; none when the default folder is absent; a folder the config names must exist. */
export function readSeeds(seeds: ResolvedSeeds, projectDir: string): SeedSource[] {
  const shown = displayPath(seeds.directory, projectDir);
  let entries: string[];
  try {
    entries = fs.readdirSync(seeds.directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && seeds.directoryKey === undefined) return [];
    if (code === 'ENOENT' || code === 'ENOTDIR') throw seedsFolderMissing(seeds.directoryKey ?? 'seeds.directory', shown);
    throw error;
  }
  return orderSeedFiles(entries).map((fileName) =>
    parseSeed(path.posix.join(shown, fileName), fileName, decodeSqlBytes(fs.readFileSync(path.join(seeds.directory, fileName)))),
  );
}
