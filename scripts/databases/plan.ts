/** Which configured databases must be created. Databases are never dropped by setup. */

/** The databases to create, in config order. */
export function planDatabases(declared: readonly string[], existing: ReadonlySet<string>): string[] {
  return declared.filter((name) => !existing.has(name));
}
