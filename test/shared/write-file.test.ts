/** writeFileAtomic: the old content or the new one, never half of either, and nothing left behind. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../scripts/shared/write-file.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-write-file-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces a file with the new content and mode, through a temporary name that does not stay', () => {
    const file = path.join(dir, 'a');
    fs.writeFileSync(file, 'old');
    writeFileAtomic(file, 'new', { mode: 0o600 });
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['a']);
  });

  it('removes what it started when the rename fails, and keeps the old file', () => {
    // A folder where the file should go: the rename cannot replace it.
    const file = path.join(dir, 'is-a-folder');
    fs.mkdirSync(file);
    expect(() => writeFileAtomic(file, 'x')).toThrow();
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('is-a-folder'))).toEqual(['is-a-folder']);
  });

  it('removes a link planted at its temporary name instead of writing through it', () => {
    const file = path.join(dir, 'b');
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'untouched');
    fs.symlinkSync(victim, `${file}.${process.pid}.tmp`);
    writeFileAtomic(file, 'mine');
    expect(fs.readFileSync(victim, 'utf8')).toBe('untouched');
    expect(fs.readFileSync(file, 'utf8')).toBe('mine');
    expect(fs.existsSync(`${file}.${process.pid}.tmp`)).toBe(false);
  });

  it("with `stable`, overwrites what a killed run left at `<file>.tmp`", () => {
    const file = path.join(dir, 'password');
    fs.writeFileSync(`${file}.tmp`, 'half');
    writeFileAtomic(file, 'whole', { stable: true, mode: 0o600 });
    expect(fs.readFileSync(file, 'utf8')).toBe('whole');
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
  });
});
