import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../scripts/core/config/validate.ts';
import { clusterLayout, MAX_SOCKET_PATH_BYTES, socketPath } from '../../scripts/core/layout.ts';

describe('clusterLayout', () => {
  it('keeps every runtime file under the state folder', () => {
    const config = resolveConfig({}, { file: undefined, projectDir: '/srv/app' });
    expect(clusterLayout(config, { tmpDir: '/tmp' })).toEqual({
      runtimeDir: '/srv/app/.pgstrap',
      dataDir: '/srv/app/.pgstrap/data',
      socketDir: '/srv/app/.pgstrap/run',
      logFile: '/srv/app/.pgstrap/log/postgresql.log',
      passwordFile: '/srv/app/.pgstrap/password',
      pgpassFile: '/srv/app/.pgstrap/pgpass',
      serverSettingsCache: '/srv/app/.pgstrap/server-settings.json',
      relocated: false,
    });
  });

  it('falls back to a short socket folder when the socket path would pass the limit', () => {
    const deep = `/Users/someone/${'very-long-folder-name/'.repeat(4)}app`;
    const config = resolveConfig({}, { file: undefined, projectDir: deep });
    const layout = clusterLayout(config, { tmpDir: '/tmp' });
    expect(layout.socketDir).toMatch(/^\/tmp\/pgstrap-[0-9a-f]{10}$/);
    expect(Buffer.byteLength(socketPath(layout.socketDir, 65535))).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES);
    expect(layout.dataDir.startsWith(deep)).toBe(true);
  });

  it('moves runtime state but never the password when relocated', () => {
    const config = resolveConfig({}, { file: undefined, projectDir: '/root/app' });
    const layout = clusterLayout(config, { relocateTo: '/var/tmp/pgstrap-x', tmpDir: '/tmp' });
    expect(layout.dataDir).toBe('/var/tmp/pgstrap-x/data');
    expect(layout.passwordFile).toBe('/root/app/.pgstrap/password');
    expect(layout.relocated).toBe(true);
  });
});
