/** Step reports: the status an outcome implies, and the restart a settings change leaves for the start step. */
import { describe, expect, it } from 'vitest';
import { nothingChanged, pendingRestart, toReport } from '../../scripts/pipeline/report.ts';

describe('step reports', () => {
  it('derives the status from the changes, and keeps restartRequired only when set', () => {
    expect(toReport('a', 'A', {}).status).toBe('unchanged');
    expect(toReport('a', 'A', { changes: ['x'] }).status).toBe('changed');
    expect(toReport('a', 'A', {})).not.toHaveProperty('restartRequired');
    expect(toReport('settings', 'S', { changes: ['x'], restartRequired: 'shared_preload_libraries' }).restartRequired).toBe('shared_preload_libraries');
  });

  it('finds the restart an earlier step asked for, until a start step has run', () => {
    const settings = toReport('settings', 'S', { changes: ['x'], restartRequired: 'shared_preload_libraries' });
    const start = toReport('start', 'Start', { changes: ['restarted'] });
    const skippedStart = toReport('start', 'Start', { status: 'skipped', notes: ['external'] });
    expect(pendingRestart([])).toBeUndefined();
    expect(pendingRestart([settings])).toBe('shared_preload_libraries');
    expect(pendingRestart([settings, skippedStart])).toBe('shared_preload_libraries');
    expect(pendingRestart([settings, start])).toBeUndefined();
    expect(pendingRestart([start, settings])).toBe('shared_preload_libraries');
    expect(nothingChanged([toReport('a', 'A', {})])).toBe(true);
  });
});
