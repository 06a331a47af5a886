/**
 * A small SVG bar chart renderer: one panel per metric, one bar per generator, each bar labelled with its
 * value and unit (and its ratio against the first bar). Pure: data in, SVG text out.
 */
import type { KeyBenchReport } from './model.ts';
import { formatRatio, formatValue, measuredMetrics, ratiosAgainstV4, referenceResult } from './metrics.ts';

/** One bar of a panel. */
export interface Bar {
  label: string;
  value: number | null;
  /** Shown after the value, e.g. `0.55x v4`. */
  note?: string | undefined;
  /** Colours the note: green when better than the reference, red when worse. */
  verdict?: 'better' | 'worse' | 'same' | undefined;
  /** Index into the palette, so one generator has one colour in every panel. */
  series: number;
}

/** One metric: a title, a unit and its bars. */
export interface Panel {
  /** Starts a new section under this heading, on a new row. */
  section?: string | undefined;
  title: string;
  unit: string;
  better: 'lower' | 'higher';
  bars: Bar[];
}

/** Everything one chart shows. */
export interface Chart {
  title: string;
  subtitle: string;
  panels: Panel[];
  /** Lines under the panels: how to read the colours, how to reproduce. */
  footer?: string[] | undefined;
}

/** Colour-blind-safe colours (Okabe-Ito), one per series. */
export const PALETTE = ['#7f7f7f', '#0072b2', '#e69f00', '#009e73', '#cc79a7', '#d55e00'] as const;

const MIN_PANEL_WIDTH = 520;
const MIN_TRACK = 180;
const CHAR_WIDTH = 6.6;
const COLUMNS = 2;
const GAP = 20;
const MARGIN = 24;
const BAR_HEIGHT = 22;
const BAR_GAP = 8;
const PANEL_HEAD = 40;

/** Column widths shared by every panel of a chart, sized to its longest label and value text. */
interface Layout {
  panelWidth: number;
  labelWidth: number;
  track: number;
}

function barText(bar: Bar, unit: string): string {
  return `${formatValue(bar.value, unit)}  ${bar.note ?? ''}`;
}

/** Widths from the text they must hold (an estimate: 12px Helvetica averages about 6.6px a character). */
function layoutFor(panels: Panel[]): Layout {
  const bars = panels.flatMap((p) => p.bars.map((b) => ({ b, unit: p.unit })));
  const labelWidth = Math.max(90, ...bars.map(({ b }) => b.label.length * CHAR_WIDTH + 20));
  const valueRoom = Math.max(80, ...bars.map(({ b, unit }) => barText(b, unit).length * CHAR_WIDTH + 16));
  const titleWidth = Math.max(0, ...panels.map((p) => (p.title.length + p.unit.length + 3) * 7.6 + 130));
  const panelWidth = Math.ceil(Math.max(MIN_PANEL_WIDTH, labelWidth + MIN_TRACK + valueRoom + 12, titleWidth));
  return { panelWidth, labelWidth, track: panelWidth - labelWidth - valueRoom - 12 };
}

/** Escapes text for SVG character data and attribute values. */
export function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** A number short enough for an SVG attribute. */
function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function panelHeight(panel: Panel): number {
  return PANEL_HEAD + panel.bars.length * (BAR_HEIGHT + BAR_GAP) + 6;
}

function renderPanel(panel: Panel, x: number, y: number, layout: Layout): string[] {
  const { panelWidth: PANEL_WIDTH, labelWidth: LABEL_WIDTH, track } = layout;
  const height = panelHeight(panel);
  const values = panel.bars.map((b) => b.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const max = Math.max(0, ...values.map(Math.abs));
  const hint = panel.better === 'lower' ? 'lower is better' : 'higher is better';
  const out = [
    `<g transform="translate(${n(x)},${n(y)})">`,
    `<rect width="${PANEL_WIDTH}" height="${n(height)}" rx="6" fill="#ffffff" stroke="#d0d4da"/>`,
    `<text x="12" y="22" class="title">${escapeXml(panel.title)}${panel.unit ? ` <tspan class="unit">(${escapeXml(panel.unit)})</tspan>` : ''}</text>`,
    `<text x="${PANEL_WIDTH - 12}" y="22" class="hint" text-anchor="end">${hint}</text>`,
  ];
  panel.bars.forEach((bar, i) => {
    const top = PANEL_HEAD + i * (BAR_HEIGHT + BAR_GAP);
    const colour = PALETTE[bar.series % PALETTE.length];
    out.push(`<text x="${LABEL_WIDTH}" y="${n(top + BAR_HEIGHT / 2 + 4)}" class="label" text-anchor="end" dx="-8">${escapeXml(bar.label)}</text>`);
    if (bar.value === null || !Number.isFinite(bar.value)) {
      out.push(`<text x="${LABEL_WIDTH + 4}" y="${n(top + BAR_HEIGHT / 2 + 4)}" class="na">not measured</text>`);
      return;
    }
    // A tiny visible stub keeps a zero or near-zero bar from disappearing.
    const width = max === 0 ? 2 : Math.max(2, (Math.abs(bar.value) / max) * track);
    const note = bar.note ? `<tspan dx="8" class="${bar.verdict ?? 'same'}">${escapeXml(bar.note)}</tspan>` : '';
    out.push(`<rect x="${LABEL_WIDTH}" y="${n(top)}" width="${n(width)}" height="${BAR_HEIGHT}" rx="3" fill="${colour}"/>`);
    out.push(`<text x="${n(LABEL_WIDTH + width + 6)}" y="${n(top + BAR_HEIGHT / 2 + 4)}" class="value">${escapeXml(formatValue(bar.value, panel.unit))}${note}</text>`);
  });
  out.push('</g>');
  return out;
}

/** Renders a chart as a standalone SVG document. */
export function renderChart(chart: Chart): string {
  const layout = layoutFor(chart.panels);
  const PANEL_WIDTH = layout.panelWidth;
  const columns = Math.min(COLUMNS, Math.max(1, chart.panels.length));
  // Rows of up to `columns` panels; a panel with a section heading starts a new row under it.
  const rows: Array<{ heading?: string | undefined; panels: Panel[] }> = [];
  for (const panel of chart.panels) {
    const last = rows[rows.length - 1];
    if (!last || panel.section !== undefined || last.panels.length === columns) rows.push({ heading: panel.section, panels: [panel] });
    else last.panels.push(panel);
  }
  const head = 64;
  const body: string[] = [];
  let y = MARGIN + head;
  for (const row of rows) {
    if (row.heading !== undefined) {
      body.push(`<text x="${MARGIN}" y="${n(y + 16)}" class="h2">${escapeXml(row.heading)}</text>`);
      y += 28;
    }
    row.panels.forEach((panel, col) => body.push(...renderPanel(panel, MARGIN + col * (PANEL_WIDTH + GAP), y, layout)));
    y += Math.max(...row.panels.map(panelHeight)) + GAP;
  }
  const footer = chart.footer ?? [];
  footer.forEach((line, i) => body.push(`<text x="${MARGIN}" y="${n(y + 4 + i * 18)}" class="foot">${escapeXml(line)}</text>`));
  const width = MARGIN * 2 + columns * PANEL_WIDTH + (columns - 1) * GAP;
  const height = y - GAP + MARGIN + footer.length * 18;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${n(height)}" viewBox="0 0 ${width} ${n(height)}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>',
    '.h2{font-size:16px;font-weight:bold;fill:#1f2328}',
    '.h1{font-size:20px;font-weight:bold;fill:#1f2328}.sub{font-size:13px;fill:#57606a}',
    '.title{font-size:14px;font-weight:bold;fill:#1f2328}.unit{font-weight:normal;fill:#57606a}',
    '.hint{font-size:11px;fill:#8c959f}.label{font-size:12px;fill:#1f2328}.value{font-size:12px;fill:#1f2328}',
    '.na{font-size:12px;fill:#8c959f;font-style:italic}',
    '.foot{font-size:12px;fill:#57606a}',
    '.better{fill:#1a7f37;font-weight:bold}.worse{fill:#cf222e;font-weight:bold}.same{fill:#57606a}',
    '</style>',
    `<rect width="100%" height="100%" fill="#f6f8fa"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 20}" class="h1">${escapeXml(chart.title)}</text>`,
    `<text x="${MARGIN}" y="${MARGIN + 44}" class="sub">${escapeXml(chart.subtitle)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Whether a ratio against the reference is an improvement; within 3% counts as the same. */
export function verdictOf(r: number | null, better: 'lower' | 'higher'): Bar['verdict'] {
  if (r === null || Math.abs(r - 1) < 0.03) return 'same';
  return (r < 1) === (better === 'lower') ? 'better' : 'worse';
}

/** The footer for a key-benchmark chart: how to read it and how to get it again. */
export function keyBenchFooter(report: KeyBenchReport, command: string): string[] {
  const reference = referenceResult(report)?.generator.label ?? 'v4';
  const load = report.machine.loadAverage.map((x) => x.toFixed(2)).join(' ');
  return [
    `Ratios against ${reference}: green is better, red is worse, grey within 3%. Load average at the end (1, 5, 15 min): ${load}.`,
    `${report.notes.find((n) => n.startsWith('single-row inserts driven by')) ?? ''}. Reproduce: ${command}`,
  ];
}

/** The primary-key benchmark as panels: one per measured metric, one bar per generator. */
export function keyBenchPanels(report: KeyBenchReport, section?: string): Panel[] {
  const reference = referenceResult(report);
  const ratios = ratiosAgainstV4(report);
  const short = reference?.generator.id ?? 'v4';
  return measuredMetrics(report).map((metric, i) => ({
    section: i === 0 ? section : undefined,
    title: metric.title,
    unit: metric.unit,
    better: metric.better,
    bars: report.generators.map((result, series) => {
      const r = ratios[metric.id]?.[result.generator.id] ?? null;
      return {
        label: result.generator.label,
        value: metric.value(result),
        note: result === reference || r === null ? undefined : `${formatRatio(r)} ${short}`,
        verdict: verdictOf(r, metric.better),
        series,
      };
    }),
  }));
}
