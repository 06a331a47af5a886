/** Summary statistics for benchmark samples: percentiles, means, ratios. Pure. */

/** Latency percentiles of one series of samples, in the samples' unit (milliseconds here). */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * The `p`-th percentile (0-100) of `samples`, linearly interpolated between the two closest ranks
 * (the "type 7" rule of R and numpy), so small samples still give distinct p95 and p99.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const weight = rank - low;
  return sorted[low]! + (sorted[high]! - sorted[low]!) * weight;
}

/** The arithmetic mean; NaN for an empty sample. */
export function mean(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  return samples.reduce((sum, x) => sum + x, 0) / samples.length;
}

/** The median: a middle value that one slow outlier cannot move, for repeated wall-time runs. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** p50, p95, p99, mean, min and max of a non-empty sample. */
export function summarise(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) throw new RangeError('cannot summarise an empty sample');
  return {
    count: samples.length,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    mean: mean(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

/** `value / reference`, or null when either is missing or the reference is zero (no meaningful ratio). */
export function ratio(value: number | null | undefined, reference: number | null | undefined): number | null {
  if (value === null || value === undefined || reference === null || reference === undefined) return null;
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return null;
  return value / reference;
}

/**
 * The median of the run-by-run ratios `values[i] / references[i]`, for two series measured in turns (run i of
 * each in the same round). A shared machine drifts between rounds (another tenant's load comes and goes):
 * within a round both sides see the same moment, so the paired ratio leaves the drift out, where the ratio of
 * the two medians can take one side's median from a quiet round and the other's from a busy one.
 */
export function pairedRatio(values: readonly number[], references: readonly number[]): number {
  if (values.length === 0 || values.length !== references.length) {
    throw new RangeError(`paired ratio needs two series of one length, got ${values.length} and ${references.length}`);
  }
  return median(values.map((v, i) => v / references[i]!));
}
