/**
 * A Nix older than the flake's nixpkgs accepts (2.18, nixos-25.11's lib/minfeatures.nix) is named by doctor,
 * as .envrc names it on `cd` (test/nix/shell.test.ts): the version parse, the probe of a real `nix` program
 * (a fake on PATH), and the doctor's verdict from facts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DoctorFacts } from '../../scripts/doctor/facts.ts';
import { toolchainChecks } from '../../scripts/doctor/toolchain-checks.ts';
import { NIX_MIN_VERSION, nixTooOld, parseNixVersion } from '../../scripts/nix/nix-version.ts';
import { probeNixVersion } from '../../scripts/nix/step.ts';
import { REPO_ROOT } from '../support/project.ts';
import { doctorFacts } from '../doctor/fixtures.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A folder holding only a `nix` that answers `--version` with `answer`. */
function fakeNix(answer: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-fakenix-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'nix'), `#!/bin/sh\n[ "$1" = --version ] && echo '${answer}'\n`, { mode: 0o755 });
  return dir;
}

describe('the Nix version the flake needs', () => {
  it('is the one nixpkgs 25.11 demands, and .envrc holds the same', () => {
    expect(NIX_MIN_VERSION).toBe('2.18');
    expect(fs.readFileSync(path.join(REPO_ROOT, '.envrc'), 'utf8')).toContain(`pgstrap_nix_min=${NIX_MIN_VERSION}\n`);
  });

  it('reads Nix and Lix answers, and compares by number', () => {
    expect(parseNixVersion('nix (Nix) 2.8.0')).toBe('2.8.0');
    expect(parseNixVersion('nix (Lix, like Nix) 2.91.1')).toBe('2.91.1');
    expect(parseNixVersion('nix (Nix) 2.18')).toBe('2.18');
    expect(parseNixVersion('no version here')).toBeUndefined();
    expect(['2.8.0', '2.17.9', '1.11.16'].map(nixTooOld)).toEqual([true, true, true]);
    expect(['2.18.0', '2.18', '2.24.9', '2.91.1', '3.0.0'].map(nixTooOld)).toEqual([false, false, false, false, false]);
  });

  it('probes the nix on PATH, and finds none where there is none', async () => {
    expect(await probeNixVersion({ PATH: `${fakeNix('nix (Nix) 2.8.0')}:/usr/bin:/bin` })).toBe('2.8.0');
    expect(await probeNixVersion({ PATH: fakeNix('') })).toBeUndefined();
    expect(await probeNixVersion({ PATH: '/nonexistent' })).toBeUndefined();
  });
});

describe('doctor on Nix', () => {
  // The doctor's fixture, with Nix facts: only the environment and the flake decide toolchain.nix.
  const facts = (nixVersion: string | undefined, flake = true): DoctorFacts => {
    const base = doctorFacts();
    return {
      ...base,
      environment: { ...base.environment, nixVersion },
      flake: flake ? { ok: true, file: 'nix/extensions.json', missing: [], extra: [], stale: [], fix: 'npm run setup', problems: [] } : undefined,
    };
  };
  const nixCheck = (f: DoctorFacts) => toolchainChecks(f).find((c) => c.id === 'toolchain.nix');

  it('warns about a Nix older than 2.18 and says how to upgrade', () => {
    const found = nixCheck(facts('2.8.0'));
    expect(found).toMatchObject({ status: 'warn', message: expect.stringMatching(/^Nix 2\.8\.0 is older than 2\.18, which the flake's nixpkgs 25\.11 needs/) });
    expect(found?.fix).toMatch(/Upgrade Nix to 2\.18 or newer/);
  });

  it('passes a new enough Nix, and says nothing without Nix or without a flake', () => {
    expect(nixCheck(facts('2.24.9'))).toMatchObject({ status: 'ok', message: 'Nix 2.24.9 (the flake\'s nixpkgs 25.11 needs 2.18 or newer)' });
    expect(nixCheck(facts(undefined))).toBeUndefined();
    expect(nixCheck(facts('2.8.0', false))).toBeUndefined();
  });
});
