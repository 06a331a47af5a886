/** The doctor's human report: grouped, one line per check, its fix under it, a summary line. */
import { groupTitle, summaryText, type Check, type CheckStatus, type DoctorSummary } from './model.ts';
import { paint } from '../shared/output.ts';

const MARKS: Record<CheckStatus, { mark: string; colour: 'green' | 'yellow' | 'red' }> = {
  ok: { mark: '✓', colour: 'green' },
  warn: { mark: '!', colour: 'yellow' },
  fail: { mark: '✗', colour: 'red' },
};

/** Renders the report as lines of text; `colour` adds ANSI codes. */
export function renderDoctor(checks: readonly Check[], summary: DoctorSummary, options: { colour: boolean; strict: boolean }): string {
  const { colour } = options;
  const lines: string[] = [];
  let group: string | undefined;
  for (const c of checks) {
    if (c.group !== group) {
      group = c.group;
      lines.push(paint(colour, 'bold', groupTitle(group)));
    }
    const { mark, colour: tint } = MARKS[c.status];
    lines.push(`  ${paint(colour, tint, mark)} ${c.message}`);
    for (const d of c.details) lines.push(`      ${paint(colour, 'dim', d)}`);
    if (c.fix) lines.push(`      ${paint(colour, 'bold', 'fix:')} ${c.fix}`);
  }
  for (const s of summary.skipped) lines.push(paint(colour, 'dim', `(not checked: ${s})`));
  const text = summaryText(summary, checks, options.strict);
  lines.push(paint(colour, summary.healthy ? (summary.warn > 0 ? 'yellow' : 'green') : 'red', text));
  return lines.join('\n');
}
