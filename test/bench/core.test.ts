/** The bench's pure parts: percentiles, ratios, flags, SQL names, the table and the SVG chart. */
import { describe, expect, it } from 'vitest';
import { chooseGenerators } from '../../scripts/bench/generators.ts';
import { keyBenchFooter, keyBenchPanels, renderChart, verdictOf, type Chart } from '../../scripts/bench/chart.ts';
import { doctorFigureList, figurePanels, generationFigureList, migrationFigureList, renderFigureMarkdown, renderFigureTable, setupFigureList } from '../../scripts/bench/figures.ts';
import type { GeneratorResult, KeyBenchReport } from '../../scripts/bench/model.ts';
import { formatValue, measuredMetrics, ratiosAgainstV4 } from '../../scripts/bench/metrics.ts';
import { DEFAULT_KEY_BENCH, parseBenchFlags } from '../../scripts/bench/options.ts';
import { benchSchemaName, dropSchemaSql, explainWalSql, isBenchSchemaName, walBytesOfExplain } from '../../scripts/bench/sql.ts';
import { generationGoals, serverLabel, type GenerationFigures } from '../../scripts/bench/generation.ts';
import { mean, median, pairedRatio, percentile, ratio, summarise } from '../../scripts/bench/stats.ts';
import { renderMarkdownTable, renderTable } from '../../scripts/bench/table.ts';
import { isPgstrapError } from '../../scripts/shared/errors.ts';
import { findPgbench } from '../../scripts/bench/insert-driver.ts';
import { parsePgbenchTransactions, pgbenchScript } from '../../scripts/bench/pgbench.ts';

describe('percentile', () => {
  it('interpolates between ranks (type 7), like numpy', () => {
    const xs = [15, 20, 35, 40, 50];
    expect(percentile(xs, 0)).toBe(15);
    expect(percentile(xs, 100)).toBe(50);
    expect(percentile(xs, 50)).toBe(35);
    expect(percentile(xs, 40)).toBeCloseTo(29);
    expect(percentile(xs, 95)).toBeCloseTo(48);
  });

  it('does not depend on input order and does not sort the input in place', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(percentile(xs, 50)).toBe(3);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
  });

  it('handles a single sample and refuses an empty one or a p outside 0..100', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('summarises p50, p95, p99, mean, min and max', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    const s = summarise(xs);
    expect(s).toMatchObject({ count: 100, min: 1, max: 100, mean: 50.5 });
    expect(s.p50).toBeCloseTo(50.5);
    expect(s.p95).toBeCloseTo(95.05);
    expect(s.p99).toBeCloseTo(99.01);
    expect(median([3, 1, 2])).toBe(2);
    expect(mean([])).toBeNaN();
  });

  it('gives no ratio against a missing or zero reference', () => {
    expect(ratio(2, 4)).toBe(0.5);
    expect(ratio(2, 0)).toBeNull();
    expect(ratio(null, 4)).toBeNull();
    expect(ratio(1, undefined)).toBeNull();
  });

  it('pairs runs of the same round: a drift that hits both sides of a round leaves the paired ratio alone', () => {
    // Each round is slower than the last (a machine getting busier); within a round, one side is 1.2x the other.
    const reference = [1, 2, 4, 8, 16];
    const value = reference.map((x) => x * 1.2);
    expect(pairedRatio(value, reference)).toBeCloseTo(1.2);
    // One side's run caught a burst the other's did not: one ratio of five, not the middle one.
    expect(pairedRatio([1.2, 2.4, 48, 9.6, 19.2], reference)).toBeCloseTo(1.2);
    expect(() => pairedRatio([1, 2], [1])).toThrow(RangeError);
    // The uuidv7 goals pair the generators' runs where they have them, and fall back to the medians.
    const figure = (id: string, generateRuns: number[] | undefined, extra: Partial<GenerationFigures> = {}): GenerationFigures =>
      ({ id, label: id, generateSeconds: median(generateRuns ?? [1]), insertSeconds: 1, indexBytes: 0, outOfOrder: 0, generateRuns, ...extra });
    const goal = (figures: GenerationFigures[]) => generationGoals({ figures }).find((g) => g.text.startsWith('generation at most 1.15x'))!;
    // Round 2 was busy for both; in each round the strong fallback took 1.1x the peer's time.
    expect(goal([figure('fallback', [1.1, 22, 3.3], { random: 'strong' }), figure('peer', [1, 20, 3])]).text).toContain('is 1.10x');
    expect(goal([figure('fallback', undefined, { random: 'strong', generateSeconds: 1.46 }), figure('peer', undefined)]).text).toContain('is 1.46x');
    expect(() => pairedRatio([], [])).toThrow(RangeError);
  });
});

describe('serverLabel', () => {
  it("names the compiler from version(), since the generation ratios depend on the build", () => {
    expect(serverLabel('17.10', 'PostgreSQL 17.10 on x86_64-pc-linux-gnu, compiled by gcc (Ubuntu 7.5.0-3ubuntu1~18.04) 7.5.0, 64-bit')).toBe(
      'PostgreSQL 17.10, compiled by gcc (Ubuntu 7.5.0-3ubuntu1~18.04) 7.5.0',
    );
    expect(serverLabel('17.12 (Debian 17.12-0+deb13u1)', 'PostgreSQL 17.12 (Debian 17.12-0+deb13u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 14.2.0-19) 14.2.0, 64-bit')).toBe(
      'PostgreSQL 17.12 (Debian 17.12-0+deb13u1), compiled by gcc (Debian 14.2.0-19) 14.2.0',
    );
    // PGlite and managed services word version() their own way: the version alone, then.
    expect(serverLabel('17.4', 'PostgreSQL 17.4 on wasm32-unknown-emscripten')).toBe('PostgreSQL 17.4');
  });
});

describe('flags', () => {
  it('reads --rows in plain, grouped and suffixed forms', () => {
    expect(parseBenchFlags({}).rows).toBe(DEFAULT_KEY_BENCH.rows);
    expect(parseBenchFlags({ rows: '20000' }).rows).toBe(20_000);
    expect(parseBenchFlags({ rows: '2_000_000' }).rows).toBe(2_000_000);
    expect(parseBenchFlags({ rows: '2M' }).rows).toBe(2_000_000);
    expect(parseBenchFlags({ rows: '1e6' }).rows).toBe(1_000_000);
    expect(parseBenchFlags({ rows: '50k' }).rows).toBe(50_000);
  });

  it('refuses nonsense with a usage error', () => {
    for (const rows of ['-5', 'ten', '1.5', '10']) {
      const error = (() => {
        try {
          parseBenchFlags({ rows });
        } catch (e) {
          return e;
        }
      })();
      expect(isPgstrapError(error) && error.exit).toBe(2);
    }
    expect(() => parseBenchFlags({ driver: 'jmeter' })).toThrow(/--driver/);
  });
});

describe('bench schema names', () => {
  it('are unique per process and run, and the only names clean-up drops', () => {
    const name = benchSchemaName(4242, 'a1b2c3');
    expect(name).toBe('pgstrap_bench_4242_a1b2c3');
    expect(isBenchSchemaName(name)).toBe(true);
    expect(dropSchemaSql(name)).toBe('DROP SCHEMA IF EXISTS "pgstrap_bench_4242_a1b2c3" CASCADE');
    for (const other of ['public', 'pgstrap', 'pgstrap_bench_', 'pgstrap_bench_1_zzzzzz', 'pgstrap_bench_1_a1b2c3"; DROP SCHEMA public; --']) {
      expect(isBenchSchemaName(other)).toBe(false);
      expect(() => dropSchemaSql(other)).toThrow(/refusing/);
    }
  });
});

function result(id: string, label: string, version: 4 | 7, scale: number, density: number | null): GeneratorResult {
  const latency = { count: 10, p50: 2 * scale, p95: 3 * scale, p99: 4 * scale, mean: 2 * scale, min: 1, max: 5 };
  return {
    generator: { id, label, expression: `${id}()`, version },
    keys: { checked: 1000, wrongVersion: 0, wrongVariant: 0 },
    bulk: { rows: 1000, seconds: 2 * scale, rowsPerSecond: 500 / scale, walBytesPerRow: 200 * scale },
    index: { bytes: 4 * 1024 * 1024 * scale, leafDensity: density, leafFragmentation: density === null ? null : 10, correlation: version === 7 ? 1 : 0.01 },
    inserts: { driver: 'node', clients: 4, seconds: 5, transactions: 5000 / scale, perSecond: 1000 / scale, perSecondByRound: [1000 / scale], walBytesPerInsert: 1024 * scale, otherSessionsActive: 0 },
    polling: latency,
    pollingIndexed: latency,
    keyset: latency,
    generation: { ids: 1e6, seconds: scale, nanosecondsPerId: 1000 * scale },
  };
}

function report(density: number | null = 70): KeyBenchReport {
  return {
    rows: 1000,
    server: 'PostgreSQL 17.10',
    settings: { shared_buffers: '128MB' },
    machine: { cpus: 2, loadAverage: [1, 1, 1] },
    strategy: 'fallback',
    generators: [result('v4', 'v4 gen_random_uuid()', 4, 1, density), result('fallback', 'uuidv7() (SQL <fallback> & co)', 7, 0.5, density)],
    notes: [],
  };
}

describe('ratios and the table', () => {
  it('computes ratios against v4 and leaves correlation without one', () => {
    const ratios = ratiosAgainstV4(report());
    expect(ratios['bulk.seconds']).toEqual({ v4: 1, fallback: 0.5 });
    expect(ratios['index.correlation']).toEqual({ v4: null, fallback: null });
  });

  it('drops metrics nobody measured (no pgstattuple)', () => {
    const ids = measuredMetrics(report(null)).map((m) => m.id);
    expect(ids).not.toContain('index.leafDensity');
    expect(ids).toContain('index.size');
  });

  it('leads each cell with its ratio against v4, in the terminal and in Markdown', () => {
    const text = renderTable(report());
    expect(text).toMatch(/Bulk load \(INSERT \.\.\. SELECT\) ↓\s+2\.00 s\s+0\.50x {2}1\.00 s/);
    expect(text).toContain('1,000 rows, PostgreSQL 17.10, 2 CPUs, shared_buffers=128MB');
    const md = renderMarkdownTable(report());
    expect(md.split('\n')[1]).toBe('|---|---:|---:|');
    expect(md).toContain('| Primary-key index size ↓ | 4.00 MB | 0.50x  2.00 MB |');
  });

  it('formats figures with units and sensible precision', () => {
    expect(formatValue(1234567, 'tx/s')).toBe('1,234,567 tx/s');
    expect(formatValue(0.1234, 'ms')).toBe('0.123 ms');
    expect(formatValue(89.64, '%')).toBe('89.6%');
    expect(formatValue(null, 'ms')).toBe('n/a');
  });
});

describe('SVG chart', () => {
  it('draws one panel per metric and one labelled bar per generator', () => {
    const panels = keyBenchPanels(report());
    const svg = renderChart({ title: 'T', subtitle: 'S', panels });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<g transform=/g)).toHaveLength(panels.length);
    // Bars are the rects with a fill from the palette (panel frames are white).
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="22" rx="3" fill="#/g)).toHaveLength(panels.length * 2);
    expect(svg).toContain('Primary-key index size');
    expect(svg).toContain('0.50x v4');
    expect(svg).toContain('lower is better');
  });

  it('escapes labels and marks unmeasured bars instead of drawing them', () => {
    const chart: Chart = {
      title: 'a < b & "c"',
      subtitle: '',
      panels: [{ title: 'x', unit: 'ms', better: 'lower', bars: [{ label: '<v4>', value: null, series: 0 }, { label: 'v7', value: 0, series: 1 }] }],
    };
    const svg = renderChart(chart);
    expect(svg).toContain('a &lt; b &amp; &quot;c&quot;');
    expect(svg).toContain('&lt;v4&gt;');
    expect(svg).not.toContain('<v4>');
    expect(svg).toContain('not measured');
    // A zero still shows a stub, so the reader sees it was measured.
    expect(svg).toMatch(/<rect x="[\d.]+" y="[\d.]+" width="2" height="22"/);
    expect(keyBenchPanels(report()).flatMap((p) => p.bars).some((b) => b.label.includes('<fallback>'))).toBe(true);
    expect(renderChart({ title: '', subtitle: '', panels: keyBenchPanels(report()) })).toContain('uuidv7() (SQL &lt;fallback&gt; &amp; co)');
  });

  it('ends with a footer that says how to read the colours and how to reproduce the run', () => {
    const footer = keyBenchFooter({ ...report(), notes: ['single-row inserts driven by node, 4 clients, 5 s each'] }, 'npm run bench -- --rows 1000');
    expect(footer[0]).toContain('green is better');
    expect(footer[1]).toBe('single-row inserts driven by node, 4 clients, 5 s each. Reproduce: npm run bench -- --rows 1000');
    const svg = renderChart({ title: 't', subtitle: 's', panels: keyBenchPanels(report()), footer });
    expect(svg).toContain('class="foot">single-row inserts driven by node');
  });

  it('puts a section heading above the panel that starts a section', () => {
    const panels = [...keyBenchPanels(report(), 'Primary keys'), ...figurePanels([{ group: 'g', label: 'l', value: 1, unit: 's' }], 'More')];
    expect(panels.filter((p) => p.section).map((p) => p.section)).toEqual(['Primary keys', 'More']);
    const svg = renderChart({ title: 't', subtitle: 's', panels });
    expect(svg.match(/class="h2"/g)).toHaveLength(2);
  });

  it('colours a ratio by whether it is better, worse or about the same', () => {
    expect(verdictOf(0.5, 'lower')).toBe('better');
    expect(verdictOf(0.5, 'higher')).toBe('worse');
    expect(verdictOf(1.01, 'lower')).toBe('same');
    expect(verdictOf(null, 'lower')).toBe('same');
  });
});

describe('--all figures', () => {
  const setup = {
    engine: 'embedded PostgreSQL 17.10',
    databases: ['app'],
    floor: { runs: [1], median: 1 },
    coldSetup: { runs: [1.4], median: 1.4 },
    coldRatio: 1.4,
    warmSetup: { runs: [1.2], median: 1.2 },
    warmSetupNode: { runs: [0.9], median: 0.9 },
    goals: { coldWithin1_5xFloor: true, warmUnder1s: false },
  };

  it('states each goal and whether it was met', () => {
    const text = renderFigureTable(setupFigureList(setup));
    expect(text).toMatch(/npm run setup\s+1\.40 s\s+met: within 1\.5x of the floor \(is 1\.40x\)/);
    expect(text).toMatch(/npm run setup\s+1\.20 s\s+NOT met: under 1 s/);
  });

  it('renders a Markdown table for the README', () => {
    const md = renderFigureMarkdown(setupFigureList(setup)).split('\n');
    expect(md[1]).toBe('|---|---|---:|---|');
    expect(md[4]).toBe('| Warm setup, nothing to do (Node start included) | npm run setup | 1.20 s | **not met**: under 1 s |');
  });

  it('maps doctor, migrations and uuidv7 generation to figures with their goals', () => {
    const doctor = doctorFigureList({ npm: { runs: [0.8], median: 0.8 }, node: { runs: [0.6], median: 0.6 }, healthy: false, goals: { warmUnder1s: true } });
    expect(doctor[0]).toMatchObject({ label: 'npm run doctor', value: 0.8, goal: { text: 'under 1 s (project not healthy: not the warm path)', met: true } });
    const migrations = migrationFigureList({
      files: 1000,
      apply: { median: { pgstrap: 1500, nodePgMigrate: 1800, nodePgMigrateSingleTransaction: 1200 }, speedup: 1.2 },
      status: { median: 48 },
      goals: { applyAtLeastAsFast: true, statusUnder300ms: true },
    });
    expect(migrations.map((f) => [f.label, f.value, f.unit])).toEqual([
      ['pgstrap migrate', 1.5, 's'],
      ['node-pg-migrate', 1.8, 's'],
      ['node-pg-migrate --single-transaction', 1.2, 's'],
      ['migrate:status, in process', 48, 'ms'],
    ]);
    const generation = generationFigureList({
      rows: 1_000_000,
      repeats: 3,
      figures: [
        { id: 'v4', label: 'v4', generateSeconds: 1, insertSeconds: 5, indexBytes: 40 * 1024 * 1024, outOfOrder: 0 },
        { id: 'fallback', label: 'fallback', generateSeconds: 2, insertSeconds: 4, indexBytes: 30 * 1024 * 1024, outOfOrder: 0, random: 'strong' },
        { id: 'peer', label: 'peer', generateSeconds: 1.8, insertSeconds: 4.5, indexBytes: 35 * 1024 * 1024, outOfOrder: 400000 },
      ],
    });
    expect(generation.filter((f) => f.goal).map((f) => [f.label, f.goal])).toEqual([
      ['fallback', { text: "generation at most 1.15x the peer SQL function's time (is 1.11x)", met: true }],
      ['fallback', { text: "keyed inserts at least 1.2x v4's throughput (is 1.25x)", met: true }],
    ]);
    // The generators keep the key panels' colours: v4 grey (0), the fallback blue (1).
    expect(generation.map((f) => f.series)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(generation.at(-1)).toMatchObject({ group: 'Primary-key index after 1,000,000 inserts', value: 35, unit: 'MB' });
  });

  it('draws a panel per group, in colours no generator uses', () => {
    const panels = figurePanels(setupFigureList(setup));
    expect(panels.map((p) => p.bars.length)).toEqual([2, 2]);
    expect(Math.min(...panels.flatMap((p) => p.bars.map((b) => b.series)))).toBeGreaterThanOrEqual(3);
    expect(panels[1]!.bars[0]).toMatchObject({ verdict: 'worse', note: 'goal not met: under 1 s' });
  });
});

describe('WAL from EXPLAIN', () => {
  it('reads the top node of EXPLAIN (ANALYZE, WAL, FORMAT JSON)', () => {
    expect(explainWalSql('INSERT INTO t VALUES (1)')).toBe('EXPLAIN (ANALYZE, WAL, TIMING OFF, COSTS OFF, FORMAT JSON) INSERT INTO t VALUES (1)');
    expect(walBytesOfExplain([{ Plan: { 'Node Type': 'ModifyTable', 'WAL Bytes': 4096, Plans: [{ 'WAL Bytes': 0 }] } }])).toBe(4096);
    expect(() => walBytesOfExplain([{ Plan: {} }])).toThrow(/WAL Bytes/);
  });
});

describe('pgbench driver', () => {
  it("reads pgbench's count of committed transactions", () => {
    const out = 'transaction type: insert.sql\nscaling factor: 1\nnumber of clients: 4\nnumber of transactions actually processed: 27411\nlatency average = 0.874 ms\ntps = 4568.2 (without initial connection time)\n';
    expect(parsePgbenchTransactions(out)).toBe(27411);
    expect(parsePgbenchTransactions('pgbench: error: connection failed')).toBeUndefined();
    expect(pgbenchScript("INSERT INTO t VALUES ('pending', md5($1::text))")).toBe("INSERT INTO t VALUES ('pending', md5(random()::text));\n");
  });

  it('prefers PGBENCH, then the server bin folder, and finds none where none exists', () => {
    expect(findPgbench(undefined, { PGBENCH: process.execPath, PATH: '' })).toBe(process.execPath);
    expect(findPgbench('/nonexistent/bin', { PATH: '/nonexistent' }) ?? 'none').toMatch(/^(none|\/usr\/lib\/postgresql\/\d+\/bin\/pgbench)$/);
  });
});

describe('generators', () => {
  const benchSchema = 'pgstrap_bench_1_abcdef';

  it('measures the fallback once when it is the strategy', () => {
    const { generators, notes } = chooseGenerators({ strategy: 'fallback', hasUuidv7: true, pgUuidv7Schema: null, benchSchema });
    expect(generators.map((g) => [g.id, g.label, g.expression, g.version])).toEqual([
      ['v4', 'v4 gen_random_uuid()', 'gen_random_uuid()', 4],
      ['fallback', 'uuidv7() (SQL fallback)', '"pgstrap_bench_1_abcdef".uuidv7()', 7],
    ]);
    expect(notes.join('\n')).toMatch(/measured once[\s\S]*pg_uuidv7 is not installed/);
  });

  it('compares the native function, the fallback and pg_uuidv7 where they all exist', () => {
    const { generators } = chooseGenerators({ strategy: 'native', hasUuidv7: true, pgUuidv7Schema: 'ext schema', benchSchema });
    expect(generators.map((g) => `${g.id}: ${g.expression}`)).toEqual([
      'v4: gen_random_uuid()',
      'uuidv7: uuidv7()',
      'fallback: "pgstrap_bench_1_abcdef".uuidv7()',
      'pg_uuidv7: "ext schema".uuid_generate_v7()',
    ]);
    expect(generators[1]!.label).toBe('uuidv7() (native)');
  });

  it('says so when the database has no uuidv7() yet', () => {
    const { generators, strategy, notes } = chooseGenerators({ strategy: null, hasUuidv7: false, pgUuidv7Schema: null, benchSchema });
    expect(generators.map((g) => g.id)).toEqual(['v4', 'fallback']);
    expect(strategy).toBeNull();
    expect(notes[0]).toMatch(/no uuidv7\(\): npm run setup installs it/);
  });
});
