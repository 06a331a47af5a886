/**
 * Whether a Node version satisfies package.json's `engines.node`. Covers the range forms engines fields
 * use (`>=20.5`, `^20.5.0`, `~20.5`, `20.x`, `20 || 22`, `>=20 <23`, `1.2.3 - 2.3.4`) without a semver dependency.
 */

type Version = [number, number, number];

function parse(text: string): { version: Version; given: number } | undefined {
  const match = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?/.exec(text.trim());
  if (!match) return undefined;
  const parts = [match[1], match[2], match[3]];
  let given = 0;
  const version = parts.map((p) => {
    if (p === undefined || /^[xX*]$/.test(p)) return 0;
    given += 1;
    return Number(p);
  }) as Version;
  // `20.x` gives one part, however many are written.
  const firstWild = parts.findIndex((p) => p === undefined || /^[xX*]$/.test(p));
  return { version, given: firstWild === -1 ? given : firstWild };
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i += 1) if (a[i]! !== b[i]!) return a[i]! - b[i]!;
  return 0;
}

/** The exclusive upper bound of a partial version: 20 -> 21.0.0, 20.5 -> 20.6.0. */
function bumpAt(v: Version, given: number): Version {
  if (given <= 1) return [v[0] + 1, 0, 0];
  return [v[0], v[1] + 1, 0];
}

function satisfiesComparator(version: Version, comparator: string): boolean {
  const match = /^(>=|<=|>|<|=|\^|~)?\s*(.+)$/.exec(comparator);
  if (!match) return false;
  const op = match[1] ?? '';
  const parsed = parse(match[2]!);
  if (!parsed) return false;
  const { version: v, given } = parsed;
  const c = compare(version, v);
  switch (op) {
    case '>=':
      return c >= 0;
    case '>':
      return given < 3 ? compare(version, bumpAt(v, given)) >= 0 : c > 0;
    case '<=':
      return given < 3 ? compare(version, bumpAt(v, given)) < 0 : c <= 0;
    case '<':
      return c < 0;
    case '^': {
      const upper: Version = v[0] > 0 || given <= 1 ? [v[0] + 1, 0, 0] : v[1] > 0 || given <= 2 ? [0, v[1] + 1, 0] : [0, 0, v[2] + 1];
      return c >= 0 && compare(version, upper) < 0;
    }
    case '~':
      return c >= 0 && compare(version, bumpAt(v, Math.min(given, 2))) < 0;
    default:
      // A bare or `=` version: exact when complete, a prefix match when partial.
      if (given === 0) return true;
      return given === 3 ? c === 0 : c >= 0 && compare(version, bumpAt(v, given)) < 0;
  }
}

/** True when `version` (e.g. `20.20.2`) satisfies `range`; an unparsable range counts as satisfied. */
export function satisfiesNodeRange(version: string, range: string): boolean {
  const parsed = parse(version);
  if (!parsed) return false;
  const v = parsed.version;
  return range.split('||').some((alternative) => {
    const text = alternative.trim();
    if (text === '' || text === '*') return true;
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(text);
    if (hyphen) return satisfiesComparator(v, `>=${hyphen[1]}`) && satisfiesComparator(v, `<=${hyphen[2]}`);
    // `>= 20` is one comparator: join an operator to the version after it.
    const comparators = text.replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/);
    return comparators.every((c) => satisfiesComparator(v, c));
  });
}
