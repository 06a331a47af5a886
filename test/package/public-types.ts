/**
 * Type-level proof (checked by `npx tsc --noEmit`, part of `npm test`) that the declaration file apps see,
 * scripts/index.d.mts, describes the same config as scripts/config/types.ts. A field added to one and not the
 * other fails the type check here.
 */
import type * as Public from '../../scripts/index.mjs';
import type * as Internal from '../../scripts/config/types.ts';
import { defineConfig as publicDefine } from '../../scripts/index.mjs';
import { defineConfig as internalDefine } from '../../scripts/config/types.ts';
import type * as PublicTesting from '../../scripts/testing.mjs';
import type * as InternalTesting from '../../scripts/testing/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <T extends true>(value: T): T => value;

export const proofs = [
  same<Equal<Public.PgstrapConfig, Internal.PgstrapConfig>>(true),
  same<Equal<Public.DatabaseConfig, Internal.DatabaseConfig>>(true),
  same<Equal<Public.ExtensionConfig, Internal.ExtensionConfig>>(true),
  same<Equal<Public.MigrationsConfig, Internal.MigrationsConfig>>(true),
  same<Equal<Public.Uuidv7Config, Internal.Uuidv7Config>>(true),
  same<Equal<Public.EngineChoice, Internal.EngineChoice>>(true),
  same<Equal<Public.FallbackRandom, Internal.FallbackRandom>>(true),
  same<Equal<Public.Uuidv7Generator, Internal.Uuidv7Generator>>(true),
  same<Equal<Public.TargetConfig, Internal.TargetConfig>>(true),
  same<Equal<typeof publicDefine, typeof internalDefine>>(true),
  same<Equal<PublicTesting.TestDatabaseOptions, InternalTesting.TestDatabaseOptions>>(true),
  same<Equal<PublicTesting.TestDatabase, InternalTesting.TestDatabase>>(true),
  same<Equal<PublicTesting.ReapResult, InternalTesting.ReapResult>>(true),
  same<Equal<typeof PublicTesting.createTestDatabase, typeof InternalTesting.createTestDatabase>>(true),
  same<Equal<typeof PublicTesting.prepareTestTemplate, typeof InternalTesting.prepareTestTemplate>>(true),
  same<Equal<typeof PublicTesting.pruneTestDatabasesOf, typeof InternalTesting.pruneTestDatabasesOf>>(true),
];
