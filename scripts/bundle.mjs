/**
 * Bundles a TypeScript entry with esbuild into node_modules/.cache/pgstrap, and rebuilds it only when a
 * file it was built from changed. Plain JavaScript, so the launcher can use it before anything is compiled.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Where a project keeps its bundles: node_modules/.cache, which npm ci clears and git ignores. */
export function cacheDirOf(projectDir) {
  return path.join(projectDir, 'node_modules', '.cache', 'pgstrap');
}

/** The build a manifest points to, if every source it lists is unchanged. */
function freshBuild(manifest) {
  try {
    const { entry, inputs } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    if (!fs.existsSync(entry)) return undefined;
    return inputs.every(([file, mtimeMs]) => fs.statSync(file).mtimeMs === mtimeMs) ? entry : undefined;
  } catch {
    return undefined;
  }
}

/** Removes builds of `name` other than `keep` that are old enough that no command can still be loading them. */
function pruneBuilds(cacheDir, name, keep) {
  for (const dir of fs.readdirSync(cacheDir)) {
    const full = path.join(cacheDir, dir);
    if (!dir.startsWith(`${name}.`) || full === keep || !fs.statSync(full).isDirectory()) continue;
    if (Date.now() - fs.statSync(full).mtimeMs > 60_000) fs.rmSync(full, { recursive: true, force: true });
  }
}

/** The path of an up-to-date ESM bundle of `entry` (absolute) in `cacheDir`. */
export async function ensureBundle(entry, cacheDir) {
  const name = `${path.basename(entry).replace(/\.[^.]+$/, '')}-${createHash('sha256').update(entry).digest('hex').slice(0, 8)}`;
  const manifest = path.join(cacheDir, `${name}.json`);
  const fresh = freshBuild(manifest);
  if (fresh) return fresh;
  const esbuild = await import('esbuild');
  const workingDir = path.dirname(entry);
  // Each build gets its own folder and the manifest is swapped in last, so a command running in parallel
  // (test workers) never loads a half-written build.
  const outdir = path.join(cacheDir, `${name}.${Date.now()}-${randomBytes(3).toString('hex')}`);
  const result = await esbuild.build({
    absWorkingDir: workingDir,
    entryPoints: [entry],
    bundle: true,
    // Chunks keep dynamic imports lazy: a command loads only its own modules and dependencies.
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies load from node_modules as usual; only the project's own TypeScript is bundled.
    packages: 'external',
    outdir,
    entryNames: 'entry',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).map((file) => {
    const absolute = path.resolve(workingDir, file);
    return [absolute, fs.statSync(absolute).mtimeMs];
  });
  const temporary = `${manifest}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify({ entry: path.join(outdir, 'entry.js'), inputs }));
  fs.renameSync(temporary, manifest);
  pruneBuilds(cacheDir, name, outdir);
  return path.join(outdir, 'entry.js');
}
