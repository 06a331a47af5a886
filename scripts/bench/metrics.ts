/** The figures a reader compares, in the order tables and charts show them. Pure. */
import type { GeneratorResult, KeyBenchReport } from './model.ts';
import { ratio } from './stats.ts';

/** One comparable figure: how to read it from a result, its unit and which direction is better. */
export interface Metric {
  id: string;
  title: string;
  unit: string;
  better: 'lower' | 'higher';
  /** False when a ratio means nothing (a correlation near zero for v4). */
  hasRatio?: false;
  /** The figure in `unit`, or null when this run could not measure it. */
  value(result: GeneratorResult): number | null;
}

const KB = 1024;
const MB = 1024 * 1024;

/** Every metric of the primary-key benchmark. */
export const METRICS: readonly Metric[] = [
  { id: 'bulk.seconds', title: 'Bulk load (INSERT ... SELECT)', unit: 's', better: 'lower', value: (r) => r.bulk.seconds },
  { id: 'bulk.walPerRow', title: 'WAL per row, bulk load', unit: 'B', better: 'lower', value: (r) => r.bulk.walBytesPerRow },
  { id: 'index.size', title: 'Primary-key index size', unit: 'MB', better: 'lower', value: (r) => r.index.bytes / MB },
  { id: 'index.leafDensity', title: 'Index leaf density', unit: '%', better: 'higher', value: (r) => r.index.leafDensity },
  { id: 'index.fragmentation', title: 'Index leaf fragmentation', unit: '%', better: 'lower', value: (r) => r.index.leafFragmentation },
  { id: 'inserts.perSecond', title: 'Single-row inserts', unit: 'tx/s', better: 'higher', value: (r) => r.inserts.perSecond },
  { id: 'inserts.walPerInsert', title: 'WAL per single-row insert', unit: 'KB', better: 'lower', value: (r) => r.inserts.walBytesPerInsert / KB },
  { id: 'polling.p50', title: "Polling 'pending', PK only, p50", unit: 'ms', better: 'lower', value: (r) => r.polling.p50 },
  { id: 'polling.p95', title: "Polling 'pending', PK only, p95", unit: 'ms', better: 'lower', value: (r) => r.polling.p95 },
  { id: 'pollingIndexed.p50', title: 'Polling, index (status, id DESC), p50', unit: 'ms', better: 'lower', value: (r) => r.pollingIndexed.p50 },
  { id: 'pollingIndexed.p95', title: 'Polling, index (status, id DESC), p95', unit: 'ms', better: 'lower', value: (r) => r.pollingIndexed.p95 },
  { id: 'keyset.p50', title: 'Keyset page id > $last, p50', unit: 'ms', better: 'lower', value: (r) => r.keyset.p50 },
  { id: 'keyset.p95', title: 'Keyset page id > $last, p95', unit: 'ms', better: 'lower', value: (r) => r.keyset.p95 },
  { id: 'generation.ns', title: 'Generating one id (1,000,000 ids)', unit: 'ns/id', better: 'lower', value: (r) => r.generation.nanosecondsPerId },
  { id: 'index.correlation', title: 'Key order vs heap order (correlation)', unit: '', better: 'higher', hasRatio: false, value: (r) => r.index.correlation },
];

/** The metrics this run measured for at least one generator (leaf density needs pgstattuple). */
export function measuredMetrics(report: KeyBenchReport): Metric[] {
  return METRICS.filter((m) => report.generators.some((g) => m.value(g) !== null));
}

/** The reference generator ratios are computed against: v4 when it ran, else the first. */
export function referenceResult(report: KeyBenchReport): GeneratorResult | undefined {
  return report.generators.find((g) => g.generator.id === 'v4') ?? report.generators[0];
}

/** metric id → generator id → value / v4's value (null where either is missing). */
export function ratiosAgainstV4(report: KeyBenchReport): Record<string, Record<string, number | null>> {
  const reference = referenceResult(report);
  const out: Record<string, Record<string, number | null>> = {};
  for (const metric of measuredMetrics(report)) {
    const row: Record<string, number | null> = {};
    for (const result of report.generators) row[result.generator.id] = metric.hasRatio === false ? null : ratio(metric.value(result), reference ? metric.value(reference) : null);
    out[metric.id] = row;
  }
  return out;
}

/** A figure with a precision that suits its size: 3 significant digits, thousands grouped. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toFixed(3);
}

/** A figure with its unit, e.g. `4.21 s`, `61.0 MB`, `0.98`. */
export function formatValue(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  const number = formatNumber(value);
  if (unit === '') return number;
  return unit === '%' ? `${number}%` : `${number} ${unit}`;
}

/** A ratio as `0.55x`. */
export function formatRatio(value: number | null): string {
  return value === null ? 'n/a' : `${value >= 10 ? value.toFixed(1) : value.toFixed(2)}x`;
}
