/** pgbench's script and summary as text: what the insert driver writes and reads. Pure. */

/** A one-statement pgbench script; random() stands in for the parameter, since pgbench scripts take none. */
export function pgbenchScript(sql: string): string {
  return `${sql.replace('$1', 'random()')};\n`;
}

/** pgbench's count of committed transactions, from its summary; undefined when it has none. */
export function parsePgbenchTransactions(stdout: string): number | undefined {
  const match = /number of transactions actually processed:\s*(\d+)/.exec(stdout);
  return match ? Number(match[1]) : undefined;
}
