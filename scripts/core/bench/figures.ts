/** The `--all` figures (setup, doctor, migrations, uuidv7 generation) as a table and chart panels. Pure. */
import type { Panel } from './chart.ts';
import type { Figure, SetupFigures } from './model.ts';
import { formatRatio, formatValue } from './metrics.ts';

const FIGURE_SERIES = 3;

/** Setup speed as figures, with issue 2's goals: cold within 1.5x of the floor, warm under 1 s. */
export function setupFigureList(setup: SetupFigures): Figure[] {
  const cold = 'Cold setup vs floor.sh (initdb, start, CREATE DATABASE)';
  const warm = 'Warm setup, nothing to do (Node start included)';
  return [
    { group: cold, label: 'bench/floor.sh', value: setup.floor.median, unit: 's' },
    {
      group: cold,
      label: 'npm run setup',
      value: setup.coldSetup.median,
      unit: 's',
      goal: { text: `within 1.5x of the floor (is ${formatRatio(setup.coldRatio)})`, met: setup.goals.coldWithin1_5xFloor },
    },
    { group: warm, label: 'npm run setup', value: setup.warmSetup.median, unit: 's', goal: { text: 'under 1 s', met: setup.goals.warmUnder1s } },
    { group: warm, label: 'node scripts/cli.ts setup', value: setup.warmSetupNode.median, unit: 's' },
  ];
}

/** A fixed-width table of figures, grouped, with each goal and whether it was met. */
export function renderFigureTable(figures: Figure[]): string {
  const rows = figures.map((f) => [f.group, f.label, formatValue(f.value, f.unit), f.goal ? `${f.goal.met ? 'met' : 'NOT met'}: ${f.goal.text}` : '']);
  const header = ['figure', 'what', 'value', 'goal'];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => [...r[i]!].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(line)].join('\n');
}

/** One panel per group (and unit), one bar per figure; a goal shows as the bar's note. */
export function figurePanels(figures: Figure[], section = 'Setup, doctor, migrations and uuidv7 generation (--all)'): Panel[] {
  const panels = new Map<string, Panel>();
  let first = true;
  for (const figure of figures) {
    const key = `${figure.group}\u0000${figure.unit}`;
    const panel = panels.get(key) ?? { section: first ? section : undefined, title: figure.group, unit: figure.unit, better: 'lower', bars: [] };
    first = false;
    panel.bars.push({
      label: figure.label,
      value: figure.value,
      // Colours after the key generators' (0-2), so a setup bar never looks like a generator.
      series: figure.series ?? FIGURE_SERIES + panel.bars.length,
      note: figure.goal ? `goal ${figure.goal.met ? 'met' : 'not met'}: ${figure.goal.text}` : undefined,
      verdict: figure.goal ? (figure.goal.met ? 'better' : 'worse') : undefined,
    });
    panels.set(key, panel);
  }
  return [...panels.values()];
}

/** The figures as a Markdown table, for the README. */
export function renderFigureMarkdown(figures: Figure[]): string {
  const escape = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    '| figure | what | value | goal |',
    '|---|---|---:|---|',
    ...figures.map((f) => `| ${escape(f.group)} | ${escape(f.label)} | ${formatValue(f.value, f.unit)} | ${f.goal ? `${f.goal.met ? 'met' : '**not met**'}: ${escape(f.goal.text)}` : ''} |`),
  ].join('\n');
}
