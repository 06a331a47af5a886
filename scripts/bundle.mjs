/**
 * Bundles a TypeScript entry with esbuild into node_modules/.cache/pgstrap, and rebuilds it only when a
 * file it was built from changed. Plain JavaScript, so the launcher can use it before anything is compiled.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Where a project keeps its bundles: node_modules/.cache, which npm ci clears and git ignores. */
export function cacheDirOf(projectDir) {
  return path.join(projectDir, 'node_modules', '.cache', 'pgstrap');
}

function isFresh(outfile, manifest) {
  try {
    const { inputs } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    return fs.existsSync(outfile) && inputs.every(([file, mtimeMs]) => fs.statSync(file).mtimeMs === mtimeMs);
  } catch {
    return false;
  }
}

function writeAtomically(file, contents) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, file);
}

/** The path of an up-to-date ESM bundle of `entry` (absolute) in `cacheDir`. */
export async function ensureBundle(entry, cacheDir) {
  const name = `${path.basename(entry).replace(/\.[^.]+$/, '')}-${createHash('sha256').update(entry).digest('hex').slice(0, 8)}`;
  const outfile = path.join(cacheDir, `${name}.mjs`);
  const manifest = path.join(cacheDir, `${name}.inputs.json`);
  if (isFresh(outfile, manifest)) return outfile;
  const esbuild = await import('esbuild');
  const workingDir = path.dirname(entry);
  const result = await esbuild.build({
    absWorkingDir: workingDir,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies load from node_modules as usual; only the project's own TypeScript is bundled.
    packages: 'external',
    outfile,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).map((file) => {
    const absolute = path.resolve(workingDir, file);
    return [absolute, fs.statSync(absolute).mtimeMs];
  });
  // Write-then-rename: concurrent commands (parallel test workers) never read a half-written bundle.
  fs.mkdirSync(cacheDir, { recursive: true });
  writeAtomically(outfile, result.outputFiles[0].contents);
  writeAtomically(manifest, JSON.stringify({ inputs }));
  return outfile;
}
