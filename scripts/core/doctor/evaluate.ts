/** Turns a doctor run's facts into its checks, in display order. */
import { settingsForExtensions } from '../extension-settings.ts';
import { externalPreloadCheck, managedChecks } from './cluster.ts';
import { databaseChecks, externalChecks } from './databases.ts';
import type { DoctorFacts } from './facts.ts';
import type { Check } from './model.ts';
import { toolchainChecks } from './toolchain.ts';

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
      checks.push(...externalChecks(facts.server, config));
      if (facts.server.connection.ok) checks.push(externalPreloadCheck(facts.server, { ...settingsForExtensions(config), ...config.settings }, config));
    }
  } else {
    checks.push(...managedChecks(facts, config, skipped));
  }
  const serverUp = facts.server?.connection.ok ?? false;
  if (serverUp) {
    for (const db of facts.databases) checks.push(...databaseChecks(db, facts.engine.mayCreateDatabases));
  } else if (external || facts.cluster?.running) skipped.push('database checks: no connection to the server');
  return { checks, skipped };
}
