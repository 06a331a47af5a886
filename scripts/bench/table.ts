/** The benchmark as text: a terminal table and a Markdown table, ratios against v4 first. Pure. */
import type { KeyBenchReport } from './model.ts';
import { formatRatio, formatValue, measuredMetrics, ratiosAgainstV4, referenceResult } from './metrics.ts';

/** Header, rows of cells: the one layout both renderers share. */
function cells(report: KeyBenchReport): { header: string[]; rows: string[][] } {
  const reference = referenceResult(report);
  const ratios = ratiosAgainstV4(report);
  const header = ['metric', ...report.generators.map((g) => g.generator.label)];
  const rows = measuredMetrics(report).map((metric) => {
    const arrow = metric.better === 'lower' ? '↓' : '↑';
    const row = [`${metric.title} ${arrow}`];
    for (const result of report.generators) {
      const value = formatValue(metric.value(result), metric.unit);
      const r = ratios[metric.id]?.[result.generator.id] ?? null;
      // The reference's own cell has no ratio; every other cell leads with it.
      row.push(result === reference || r === null ? value : `${formatRatio(r)}  ${value}`);
    }
    return row;
  });
  return { header, rows };
}

/** One line saying what was measured where, above both tables. */
export function runLine(report: KeyBenchReport): string {
  const settings = Object.entries(report.settings).map(([k, v]) => `${k}=${v}`).join(', ');
  return `${report.rows.toLocaleString('en-US')} rows, ${report.server}, ${report.machine.cpus} CPUs${settings ? `, ${settings}` : ''}`;
}

/** Header and rows as fixed-width columns for the terminal, a rule under the header (widths count characters). */
export function fixedWidthTable(header: string[], rows: string[][]): string {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => [...(row[i] ?? '')].length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(line)].join('\n');
}

/** A fixed-width table for the terminal: ratio against v4 first in each cell, then the figure. */
export function renderTable(report: KeyBenchReport): string {
  const { header, rows } = cells(report);
  const reference = referenceResult(report);
  return [
    `Primary keys: ${runLine(report)}`,
    `Ratios against ${reference?.generator.label ?? 'v4'} (↓ lower is better, ↑ higher is better).`,
    '',
    fixedWidthTable(header, rows),
  ].join('\n');
}

/** The same table in Markdown, for the README. */
export function renderMarkdownTable(report: KeyBenchReport): string {
  const { header, rows } = cells(report);
  const escape = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}
