/**
 * The Nix a project's flake needs: nixpkgs 25.11 (flake.lock) refuses a Nix older than 2.18 in its
 * lib/minfeatures.nix, so an older one cannot evaluate the flake at all. Pure: .envrc holds the same
 * minimum (pgstrap_nix_min) for `cd`, doctor asks through probeNixVersion.
 */

/** The oldest Nix the pinned nixpkgs (nixos-25.11) evaluates under. */
export const NIX_MIN_VERSION = '2.18';

/** The version in `nix --version`'s answer (`nix (Nix) 2.24.9`, `nix (Lix, like Nix) 2.91.1`), if any. */
export function parseNixVersion(output: string): string | undefined {
  return /(\d+)\.(\d+)(?:\.(\d+))?/.exec(output)?.[0];
}

/** True when `version` (major.minor[.patch]) is older than NIX_MIN_VERSION. */
export function nixTooOld(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [minMajor = 0, minMinor = 0] = NIX_MIN_VERSION.split('.').map(Number);
  return major < minMajor || (major === minMajor && minor < minMinor);
}
