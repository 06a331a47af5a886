/** SQL identifier rules and quoting: every name that reaches SQL text goes through here. */

/** PostgreSQL truncates identifiers past NAMEDATALEN - 1 bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** True when `name` is a valid unquoted SQL identifier that fits in 63 bytes. */
export function isPlainIdentifier(name: string): boolean {
  return PLAIN_IDENTIFIER.test(name) && Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES;
}

/** Quotes an identifier (database, schema, extension, role) for SQL text. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('an identifier cannot contain a NUL byte');
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal for SQL text that cannot take parameters (DDL, config files). */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('a literal cannot contain a NUL byte');
  return `'${value.replaceAll("'", "''")}'`;
}
