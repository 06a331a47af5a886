/** Toolchain and Config checks: the shell, Node, PostgreSQL binaries, the config file and the flake's list. */
import type { ResolvedConfig } from '../config/types.ts';
import { CATALOGUE, findExtension } from '../extensions/catalogue.ts';
import type { DoctorFacts } from './facts.ts';
import { check, type Check } from './model.ts';
import { satisfiesNodeRange } from './node-range.ts';
import { NIX_MIN_VERSION, nixTooOld } from '../nix/nix-version.ts';

/** Inside `nix develop`, under direnv, or neither. */
function shellCheck(facts: DoctorFacts): Check {
  const { nixShell, direnvDir } = facts.environment;
  if (nixShell) {
    // The dev shell sets PG_BIN to the flake's PostgreSQL; falling back to the embedded one loses its extensions.
    if (facts.engine?.ok && facts.engine.kind === 'embedded') {
      return check('toolchain.shell', 'toolchain', 'warn', `inside nix develop, but pgstrap uses the embedded PostgreSQL (${facts.engine.choice})`, {
        fix: "Leave the shell and run nix develop again from the project, so PG_BIN names the flake's PostgreSQL",
      });
    }
    return check('toolchain.shell', 'toolchain', 'ok', `inside nix develop (IN_NIX_SHELL=${nixShell}): the flake's PostgreSQL with every declared extension`);
  }
  if (direnvDir) return check('toolchain.shell', 'toolchain', 'ok', `direnv loaded ${direnvDir.replace(/^-/, '')} (no Nix shell: the orchestrator's environment)`);
  return check('toolchain.shell', 'toolchain', 'ok', 'neither nix develop nor direnv: plain shell (nix develop gives the extensions contrib lacks)');
}

/** The Node major pgstrap recommends: the flake's, and the oldest one still maintained. */
const RECOMMENDED_NODE_MAJOR = 22;

/** Node against the versions pgstrap supports (its own engines.node): older ones are past their end of life, a warning. */
function pgstrapNodeCheck(facts: DoctorFacts): Check | undefined {
  const { nodeVersion, pgstrapNodeRange } = facts.environment;
  const fix = 'Install Node 22 or newer (nix develop provides 22; or nvm install 22)';
  if (pgstrapNodeRange !== undefined && !satisfiesNodeRange(nodeVersion, pgstrapNodeRange)) {
    return check('toolchain.pgstrap-node', 'toolchain', 'warn', `Node ${nodeVersion} is older than pgstrap supports (${pgstrapNodeRange}); it may still run, untested`, { fix });
  }
  // Supported and tested, but past its end of life: say so, whatever the app's own range allows.
  if (Number(nodeVersion.split('.')[0]) < RECOMMENDED_NODE_MAJOR) {
    return check('toolchain.pgstrap-node', 'toolchain', 'warn', `Node ${nodeVersion} runs pgstrap, but Node 20 reached its end of life in April 2026: use ${RECOMMENDED_NODE_MAJOR} or newer`, { fix });
  }
  if (pgstrapNodeRange === undefined) return undefined;
  return check('toolchain.pgstrap-node', 'toolchain', 'ok', `Node ${nodeVersion} is one pgstrap supports (${pgstrapNodeRange})`);
}

/** Node against package.json's engines.node. */
function nodeCheck(facts: DoctorFacts): Check {
  const { nodeVersion, nodeRange, packageJson } = facts.environment;
  if (nodeRange === undefined) return check('toolchain.node', 'toolchain', 'ok', `Node ${nodeVersion} (${packageJson ?? 'package.json'} declares no engines.node)`);
  if (satisfiesNodeRange(nodeVersion, nodeRange)) return check('toolchain.node', 'toolchain', 'ok', `Node ${nodeVersion} satisfies engines.node ${nodeRange}`);
  return check('toolchain.node', 'toolchain', 'fail', `Node ${nodeVersion} does not satisfy engines.node ${nodeRange} (${packageJson})`, {
    fix: `Install a Node that matches ${nodeRange} (nix develop provides one; or nvm install 22)`,
  });
}

/** Which engine and binaries the config resolves to. */
function postgresCheck(facts: DoctorFacts): Check | undefined {
  const { engine } = facts;
  if (engine === undefined) return undefined;
  if (!engine.ok) {
    return check('toolchain.postgres', 'toolchain', 'fail', engine.error.message, { details: engine.error.details, fix: engine.error.remedy });
  }
  if (engine.kind === 'external') return check('toolchain.postgres', 'toolchain', 'ok', `${engine.description} (${engine.choice}): no local binaries needed`);
  return check('toolchain.postgres', 'toolchain', 'ok', `${engine.description}; ${engine.choice}`);
}

/** The embedded binaries: the fallback that makes `npm run setup` work without Nix. */
function embeddedCheck(facts: DoctorFacts, config: ResolvedConfig): Check | undefined {
  const { embedded } = facts;
  if (embedded === undefined) return undefined;
  if (embedded.ok) return check('toolchain.embedded', 'toolchain', 'ok', `embedded PostgreSQL ${embedded.binaries.version} present (${embedded.binaries.origin})`);
  if (facts.engineChoice === 'system' || facts.engineChoice === 'external') {
    return check('toolchain.embedded', 'toolchain', 'ok', `no embedded PostgreSQL ${config.postgresMajor}; not needed with engine "${facts.engineChoice}"`);
  }
  const inUse = facts.engineChoice === 'embedded';
  return check('toolchain.embedded', 'toolchain', inUse ? 'fail' : 'warn', `${embedded.error.message}: no fallback when no system PostgreSQL ${config.postgresMajor} is found`, {
    details: embedded.error.details,
    fix: embedded.error.remedy,
  });
}

/** Declared extensions the catalogue does not know, or knows nixpkgs cannot build. */
function catalogueCheck(config: ResolvedConfig): Check | undefined {
  // Until the catalogue has entries every name would look unknown, which says nothing.
  if (CATALOGUE.length === 0) return undefined;
  if (config.extensions.length === 0) return check('config.extensions', 'config', 'ok', 'no extensions declared');
  const unknown = config.extensions.filter((e) => !findExtension(e.name)).map((e) => e.name);
  const unavailable = config.extensions
    .map((e) => ({ name: e.name, why: findExtension(e.name)?.unavailable }))
    .filter((e): e is { name: string; why: string } => e.why !== undefined);
  const details = [
    ...unknown.map((n) => `${n}: not in pgstrap's catalogue (a team's own extension? check its CREATE EXTENSION name)`),
    ...unavailable.map((e) => `${e.name}: ${e.why}`),
  ];
  if (details.length === 0) return check('config.extensions', 'config', 'ok', `${config.extensions.length === 1 ? 'the declared extension is' : `all ${config.extensions.length} declared extensions are`} known to the catalogue`);
  const names = [...unknown, ...unavailable.map((e) => e.name)];
  return check('config.extensions', 'config', 'warn', `${names.join(', ')}: ${unknown.length > 0 ? 'unknown' : 'not buildable by nixpkgs'}`, {
    details,
    fix: `Check the names in ${config.file ?? 'extensions.config.ts'} (README.md lists the catalogue), or keep them if they are your own`,
  });
}

/** The Nix on PATH against what the flake's nixpkgs needs; only for a project with a flake. */
function nixCheck(facts: DoctorFacts): Check | undefined {
  const { nixVersion } = facts.environment;
  if (nixVersion === undefined || facts.flake === undefined) return undefined;
  if (!nixTooOld(nixVersion)) return check('toolchain.nix', 'toolchain', 'ok', `Nix ${nixVersion} (the flake's nixpkgs 25.11 needs ${NIX_MIN_VERSION} or newer)`);
  return check('toolchain.nix', 'toolchain', 'warn', `Nix ${nixVersion} is older than ${NIX_MIN_VERSION}, which the flake's nixpkgs 25.11 needs: nix develop fails and direnv falls back to the orchestrator's environment (contrib extensions only)`, {
    fix: `Upgrade Nix to ${NIX_MIN_VERSION} or newer (the installer at nixos.org/download, or nix upgrade-nix; Debian 12's nix-bin is 2.8), then direnv reload`,
  });
}

/** The flake's extension list against the config. */
function flakeCheck(facts: DoctorFacts): Check | undefined {
  const { flake } = facts;
  if (flake === undefined) return undefined;
  if (flake.ok) return check('config.flake', 'config', 'ok', `${flake.file} lists exactly the declared extensions`);
  const parts = [
    flake.missing.length > 0 ? `lacks ${flake.missing.join(', ')}` : '',
    flake.extra.length > 0 ? `has extra ${flake.extra.join(', ')}` : '',
  ].filter(Boolean);
  return check('config.flake', 'config', 'fail', `${flake.file} is out of date: it ${parts.join(' and ') || 'differs from the config'}`, {
    details: flake.stale,
    fix: flake.fix,
    repair: 'flake',
  });
}

/** Toolchain and Config checks. */
export function toolchainChecks(facts: DoctorFacts): Check[] {
  const checks: Array<Check | undefined> = [shellCheck(facts), nodeCheck(facts), pgstrapNodeCheck(facts)];
  if (facts.config.ok) {
    const config = facts.config.value;
    checks.push(postgresCheck(facts), embeddedCheck(facts, config));
    const summary = `${config.databases.length} database${config.databases.length === 1 ? '' : 's'}, ${config.extensions.length} extension${config.extensions.length === 1 ? '' : 's'}`;
    const valid = config.file ? `${config.file} is valid: ${summary}` : `no extensions.config.ts: the defaults apply (${summary})`;
    checks.push(check('config.valid', 'config', 'ok', valid), catalogueCheck(config), flakeCheck(facts), nixCheck(facts));
  } else {
    const { error } = facts.config;
    checks.push(check('config.valid', 'config', 'fail', error.message, { details: error.details, fix: error.remedy }));
  }
  return checks.filter((c): c is Check => c !== undefined);
}
