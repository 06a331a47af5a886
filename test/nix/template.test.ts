/** The flake template must carry every file the CLI is built from, or `npm run` fails in an adopting project. */
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/project.ts';

/** The top-level names flake.nix's templateFiles lists. */
function templateFiles(): string[] {
  const flake = fs.readFileSync(path.join(REPO_ROOT, 'flake.nix'), 'utf8');
  const list = /templateFiles = \[([\s\S]*?)\];/.exec(flake)?.[1] ?? '';
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
}

describe('flake template', () => {
  it('holds every source file the CLI bundle is built from', async () => {
    const result = await esbuild.build({
      absWorkingDir: REPO_ROOT,
      entryPoints: ['scripts/cli.ts'],
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outdir: 'unused',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const tops = new Set(Object.keys(result.metafile.inputs).map((file) => file.split('/')[0]!));
    const listed = templateFiles();
    expect(listed).toContain('scripts');
    expect([...tops].filter((top) => !listed.includes(top))).toEqual([]);
  });
});
