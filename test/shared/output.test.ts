/** The one writer: what each mode lets through, to which stream. */
import { describe, expect, it } from 'vitest';
import { memoryOutput, processOutput, type OutputStreams } from '../../scripts/shared/output.ts';

/** Streams that keep what is written to them; `tty` says whether they pass for a terminal. */
function fakeStreams(tty = false): OutputStreams & { written: { out: string; err: string } } {
  const written = { out: '', err: '' };
  const stream = (key: 'out' | 'err') =>
    ({
      isTTY: tty,
      on: () => undefined,
      write: (chunk: string) => {
        written[key] += chunk;
        return true;
      },
    }) as unknown as NodeJS.WriteStream;
  return { out: stream('out'), err: stream('err'), written };
}

describe('processOutput', () => {
  it('in json mode writes the document alone on stdout, drops human text, and keeps stderr', () => {
    const streams = fakeStreams();
    const output = processOutput({ json: true }, streams, {});
    expect(output.mode).toBe('json');
    output.say('pgstrap: embedded PostgreSQL');
    output.json({ ok: true, steps: [] });
    output.error('pgstrap: waiting for pid 1 (setup, for 2 s) to finish');
    expect(streams.written.out).toBe('{\n  "ok": true,\n  "steps": []\n}\n');
    expect(JSON.parse(streams.written.out)).toEqual({ ok: true, steps: [] });
    expect(streams.written.err).toBe('pgstrap: waiting for pid 1 (setup, for 2 s) to finish\n');
  });

  it('off json mode writes human text line by line, plain off a terminal or in CI, tasks on one', () => {
    const streams = fakeStreams();
    const output = processOutput({}, streams, {});
    expect(output.mode).toBe('plain');
    output.say('Stopped the cluster.');
    output.error('error [usage] no');
    expect(streams.written).toEqual({ out: 'Stopped the cluster.\n', err: 'error [usage] no\n' });
    expect(processOutput({}, fakeStreams(true), {}).mode).toBe('tasks');
    expect(processOutput({}, fakeStreams(true), { CI: 'true' }).mode).toBe('plain');
  });

  it('takes colour from each stream and NO_COLOR / FORCE_COLOR', () => {
    expect(processOutput({}, fakeStreams(true), {}).colour).toEqual({ out: true, err: true });
    expect(processOutput({}, fakeStreams(true), { NO_COLOR: '1' }).colour).toEqual({ out: false, err: false });
    expect(processOutput({}, fakeStreams(false), { FORCE_COLOR: '1' }).colour).toEqual({ out: true, err: true });
  });

  it('redacts nothing: a command that prints a password means to', () => {
    const streams = fakeStreams();
    processOutput({}, streams, {}).say("export DATABASE_URL='postgresql://postgres:secret@127.0.0.1:5432/app'");
    expect(streams.written.out).toContain(':secret@');
  });
});

describe('memoryOutput', () => {
  it('keeps each call, without the newline; json mode keeps the document and drops human text', () => {
    const output = memoryOutput('json');
    output.say('dropped');
    output.json({ ok: false });
    output.error('kept');
    expect(output.out).toEqual(['{\n  "ok": false\n}']);
    expect(output.err).toEqual(['kept']);
  });

  it('is plain and colourless by default', () => {
    const output = memoryOutput();
    output.say('line');
    expect(output.mode).toBe('plain');
    expect(output.colour).toEqual({ out: false, err: false });
    expect(output.out).toEqual(['line']);
  });
});
