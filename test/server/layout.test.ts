import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { clusterLayout, socketFits } from '../../scripts/server/layout.ts';

describe('clusterLayout', () => {
  it('keeps every runtime file under the state folder', () => {
    const config = resolveConfig({}, { file: undefined, projectDir: '/srv/app' });
    expect(clusterLayout(config)).toEqual({
      runtimeDir: '/srv/app/.pgstrap',
      dataDir: '/srv/app/.pgstrap/data',
      socketDir: '/srv/app/.pgstrap/run',
      logFile: '/srv/app/.pgstrap/log/postgresql.log',
      passwordFile: '/srv/app/.pgstrap/password',
      pgpassFile: '/srv/app/.pgstrap/pgpass',
      programAnswers: '/srv/app/.pgstrap/programs.json',
      relocated: false,
    });
  });

  it('takes the short socket folder it is given when the socket path would pass the limit', () => {
    const deep = `/Users/someone/${'very-long-folder-name/'.repeat(4)}app`;
    const config = resolveConfig({}, { file: undefined, projectDir: deep });
    expect(socketFits(clusterLayout(config).socketDir)).toBe(false);
    const layout = clusterLayout(config, { shortSocketDir: '/tmp/pgstrap-Ab3xYz' });
    expect(layout.socketDir).toBe('/tmp/pgstrap-Ab3xYz');
    expect(socketFits(layout.socketDir)).toBe(true);
    expect(layout.dataDir.startsWith(deep)).toBe(true);
  });

  it('moves runtime state but never the password when relocated', () => {
    const config = resolveConfig({}, { file: undefined, projectDir: '/root/app' });
    const layout = clusterLayout(config, { relocateTo: '/var/lib/pgstrap/x' });
    expect(layout.dataDir).toBe('/var/lib/pgstrap/x/data');
    expect(layout.passwordFile).toBe('/root/app/.pgstrap/password');
    expect(layout.relocated).toBe(true);
  });
});
