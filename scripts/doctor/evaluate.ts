/** Turns a doctor run's facts into its checks, in display order. */
import { desiredSettings } from '../extensions/settings.ts';
import { externalPreloadCheck, managedChecks } from './cluster-checks.ts';
import { databaseChecks, externalChecks, externalSettingsCheck } from './database-checks.ts';
import type { DoctorFacts } from './facts.ts';
import { describeReadOnly } from '../server/privileges.ts';
import type { Check } from './model.ts';
import { toolchainChecks } from './toolchain-checks.ts';

/** Every check the facts support, plus what could not be checked and why. */
export function evaluateDoctor(facts: DoctorFacts): { checks: Check[]; skipped: string[] } {
  const skipped: string[] = [];
  const checks = toolchainChecks(facts);
  if (!facts.config.ok) {
    skipped.push('cluster and database checks: the config does not load');
    return { checks, skipped };
  }
  const config = facts.config.value;
  if (!facts.engine?.ok) {
    skipped.push('cluster and database checks: no engine');
    return { checks, skipped };
  }
  const external = facts.engine.kind === 'external';
  if (external) {
    if (facts.server) {
      checks.push(...externalChecks(facts.server, config, facts.declared));
      if (facts.server.connection.ok && facts.server.connection.readError === undefined) {
        // Only extensions the server offers can be preloaded there; the others fail their own check.
        const offered = facts.server.extensions?.available ?? new Map<string, string>();
        checks.push(externalPreloadCheck(facts.server, desiredSettings(config, (n) => offered.has(n)), config));
        checks.push(externalSettingsCheck(facts.server, config, facts.databases.map((d) => d.name)));
      }
    }
  } else {
    checks.push(...managedChecks(facts, config, skipped));
  }
  const serverUp = facts.server?.connection.ok ?? false;
  if (serverUp) {
    checks.push(...databaseChecks(facts.databases, facts.declared, facts.server?.extensions, facts.engine.mayCreateDatabases, config.uuidv7));
  } else if (external || facts.cluster?.running) skipped.push('database checks: no connection to the server');
  // A server that takes no writes from this role gets no repairs: --fix would refuse it anyway (external.writable says why).
  const role = facts.server?.role;
  if (external && role && describeReadOnly(role) !== undefined) return { checks: checks.map((c) => ({ ...c, repair: undefined })), skipped };
  return { checks, skipped };
}
