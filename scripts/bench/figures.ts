/** The `--all` figures (setup, doctor, migrations, uuidv7 generation) as a table and chart panels. Pure. */
import type { Panel } from './chart.ts';
import type { Figure, SetupFigures, Timing } from './model.ts';
import { formatRatio, formatValue } from './metrics.ts';
import { generationGoals, type GenerationReport } from './generation.ts';
import { fixedWidthTable } from './table.ts';

const FIGURE_SERIES = 3;

/** Setup speed as figures, with issue 2's goals: cold within 1.5x of the floor, warm under 1 s. */
export function setupFigureList(setup: SetupFigures): Figure[] {
  const cold = 'Cold setup vs floor.sh (initdb, start, CREATE DATABASE)';
  const warm = 'Warm setup, nothing to do (Node start included)';
  return [
    { group: cold, label: 'floor.sh', value: setup.floor.median, unit: 's' },
    {
      group: cold,
      label: 'npm run setup',
      value: setup.coldSetup.median,
      unit: 's',
      goal: { text: `within 1.5x of the floor (is ${formatRatio(setup.coldRatio)})`, met: setup.goals.coldWithin1_5xFloor },
    },
    { group: warm, label: 'npm run setup', value: setup.warmSetup.median, unit: 's', goal: { text: 'under 1 s', met: setup.goals.warmUnder1s } },
    { group: warm, label: 'node scripts/pgstrap.mjs setup', value: setup.warmSetupNode.median, unit: 's' },
  ];
}

/** What --all reads from scripts/bench/doctor.ts's measureDoctor (seconds). */
export interface DoctorTimings {
  npm: Timing;
  node: Timing;
  healthy: boolean;
  goals: { warmUnder1s: boolean };
}

/** What --all reads from scripts/bench/migrations.ts's measureMigrations (milliseconds). */
export interface MigrationTimings {
  files: number;
  apply: { median: { pgstrap: number; nodePgMigrate: number; nodePgMigrateSingleTransaction: number }; speedup: number };
  status: { median: number };
  goals: { applyAtLeastAsFast: boolean; statusUnder300ms: boolean };
}

/** What --all reads from scripts/bench/uuidv7-generation.ts's measureUuidv7Generation (seconds, bytes); v4 first. */
export type GenerationTimings = Pick<GenerationReport, 'rows' | 'repeats' | 'figures'>;

/** Warm doctor (scripts/bench/doctor.ts) as figures, with its goal: under 1 s. */
export function doctorFigureList(doctor: DoctorTimings): Figure[] {
  const group = 'Warm doctor (Node start included)';
  const health = doctor.healthy ? '' : ' (project not healthy: not the warm path)';
  return [
    { group, label: 'npm run doctor', value: doctor.npm.median, unit: 's', goal: { text: `under 1 s${health}`, met: doctor.goals.warmUnder1s } },
    { group, label: 'node scripts/pgstrap.mjs doctor', value: doctor.node.median, unit: 's' },
  ];
}

/** Migrations (scripts/bench/migrations.ts) as figures, with their goals: as fast as node-pg-migrate, status under 300 ms. */
export function migrationFigureList(report: MigrationTimings): Figure[] {
  const apply = `Applying ${report.files.toLocaleString('en-US')} migration files`;
  const status = `migrate:status on ${report.files.toLocaleString('en-US')} applied files`;
  return [
    {
      group: apply,
      label: 'pgstrap migrate',
      value: report.apply.median.pgstrap / 1000,
      unit: 's',
      goal: { text: `at least as fast as node-pg-migrate (it takes ${report.apply.speedup}x)`, met: report.goals.applyAtLeastAsFast },
    },
    { group: apply, label: 'node-pg-migrate', value: report.apply.median.nodePgMigrate / 1000, unit: 's' },
    { group: apply, label: 'node-pg-migrate --single-transaction', value: report.apply.median.nodePgMigrateSingleTransaction / 1000, unit: 's' },
    { group: status, label: 'migrate:status, in process', value: report.status.median, unit: 'ms', goal: { text: 'under 300 ms', met: report.goals.statusUnder300ms } },
  ];
}

/** uuidv7 generation (scripts/bench/uuidv7-generation.ts) as figures, with its goals (generationGoals). */
export function generationFigureList(report: GenerationTimings): Figure[] {
  const n = report.rows.toLocaleString('en-US');
  const goals = generationGoals(report);
  const goalOf = (id: string, about: (text: string) => boolean) => {
    const goal = goals.find((g) => g.id === id && about(g.text));
    return goal ? { text: goal.text, met: goal.met } : undefined;
  };
  const out: Figure[] = [];
  // series i: the key panels' colours, v4 first, the fallback second, then the others.
  report.figures.forEach((f, i) => {
    const goal = goalOf(f.id, (t) => t.startsWith('generation'));
    out.push({ group: `Generating ${n} ids (median of ${report.repeats})`, label: f.label, value: f.generateSeconds, unit: 's', goal, series: i });
  });
  report.figures.forEach((f, i) =>
    out.push({ group: `Inserting ${n} rows, key as the default`, label: f.label, value: f.insertSeconds, unit: 's', goal: goalOf(f.id, (t) => t.startsWith('keyed')), series: i }),
  );
  report.figures.forEach((f, i) => out.push({ group: `Primary-key index after ${n} inserts`, label: f.label, value: f.indexBytes / 1024 / 1024, unit: 'MB', series: i }));
  return out;
}

/** A fixed-width table of figures, grouped, with each goal and whether it was met. */
export function renderFigureTable(figures: Figure[]): string {
  const rows = figures.map((f) => [f.group, f.label, formatValue(f.value, f.unit), f.goal ? `${f.goal.met ? 'met' : 'NOT met'}: ${f.goal.text}` : '']);
  return fixedWidthTable(['figure', 'what', 'value', 'goal'], rows);
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
