/** The one place errors become text. */
import { isPgstrapError, messageOf, type PgstrapError } from './errors.ts';
import { redactSecrets } from './secrets.ts';
import { paint } from './output.ts';

/** Human rendering: the message, its details, and the remedy, with every secret masked; `colour` for the stream it goes to. */
export function renderError(error: unknown, colour: boolean): string {
  if (!isPgstrapError(error)) {
    const stack = error instanceof Error && error.stack ? error.stack : messageOf(error);
    return `${paint(colour, 'red', 'pgstrap: unexpected error (a bug; please report it with this output)')}\n${redactSecrets(stack)}`;
  }
  const lines = [`${paint(colour, 'red', 'error')} [${error.code}] ${redactSecrets(error.message)}`];
  for (const detail of error.details) lines.push(`  ${redactSecrets(detail)}`);
  if (error.remedy) lines.push(`${paint(colour, 'bold', 'fix:')} ${redactSecrets(error.remedy)}`);
  return lines.join('\n');
}

/** The --json shape of an error, with every secret masked. */
export function errorJson(error: unknown): { code: string; message: string; details: string[]; remedy: string | undefined } {
  if (isPgstrapError(error)) {
    const e: PgstrapError = error;
    return { code: e.code, message: redactSecrets(e.message), details: e.details.map(redactSecrets), remedy: e.remedy === undefined ? undefined : redactSecrets(e.remedy) };
  }
  return { code: 'internal', message: redactSecrets(messageOf(error)), details: [], remedy: 'This is a bug in pgstrap; please report it.' };
}
