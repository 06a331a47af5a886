/**
 * What PostgreSQL's programs answered, kept in the state folder: a warm run starts no pg_config or postgres,
 * a changed program or a new installation beside Debian's wrapper is asked again, and a file another user
 * could have written is not believed. Real processes: fake pg_config and postgres scripts that count calls.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { keptAnswer } from '../../scripts/server/program-answers.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-answers-'));
  dirs.push(dir);
  return dir;
}

function script(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/** An installation root like Debian's /usr/lib/postgresql, with a `major` whose programs log each call to `calls`. */
function installation(root: string, major: number, calls: string): string {
  const bin = path.join(root, String(major), 'bin');
  script(path.join(bin, 'postgres'), `echo "postgres $*" >> ${calls}\necho "postgres (PostgreSQL) ${major}.4"`);
  for (const program of ['initdb', 'pg_ctl']) script(path.join(bin, program), 'exit 0');
  return bin;
}

describe('kept answers', () => {
  it('asks once per identity, keeps the answer 0600, and asks again when the identity changes', async () => {
    const file = path.join(scratch(), 'programs.json');
    let asked = 0;
    const ask = async () => `answer ${++asked}`;
    expect(await keptAnswer(file, 'k', 'id-1', ask)).toBe('answer 1');
    expect(await keptAnswer(file, 'k', 'id-1', ask)).toBe('answer 1');
    expect(asked).toBe(1);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ k: { identity: 'id-1', answer: 'answer 1' } });
    expect(await keptAnswer(file, 'k', 'id-2', ask)).toBe('answer 2');
    // A kept answer its judge cannot read (it throws) is asked again, not an error; one it accepts is kept
    // (copies of the file: this process remembers what it read from the first).
    for (const copy of ['judged-throws.json', 'judged-holds.json']) fs.copyFileSync(file, path.join(path.dirname(file), copy));
    expect(await keptAnswer(path.join(path.dirname(file), 'judged-throws.json'), 'k', 'id-2', ask, () => { throw new SyntaxError('not JSON'); })).toBe('answer 3');
    expect(await keptAnswer(path.join(path.dirname(file), 'judged-holds.json'), 'k', 'id-2', ask, () => true)).toBe('answer 2');
    // A failure (undefined) is not kept.
    expect(await keptAnswer(file, 'other', 'id-1', async () => undefined)).toBeUndefined();
    expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')))).toEqual(['k']);
  });

  it('does not believe a file others may write, one owned by another user, or a symlink', async () => {
    const dir = scratch();
    const planted = JSON.stringify({ k: { identity: 'id', answer: 'planted' } });
    const cases: Array<[string, (file: string) => void]> = [
      ['group-writable', (file) => {
        fs.writeFileSync(file, planted);
        fs.chmodSync(file, 0o620);
      }],
      ['world-writable', (file) => {
        fs.writeFileSync(file, planted);
        fs.chmodSync(file, 0o606);
      }],
      ['symlink', (file) => {
        fs.writeFileSync(`${file}.target`, planted, { mode: 0o600 });
        fs.symlinkSync(`${file}.target`, file);
      }],
    ];
    if (process.getuid?.() === 0) cases.push(['owned by nobody', (file) => {
      fs.writeFileSync(file, planted, { mode: 0o600 });
      fs.chownSync(file, 65534, 65534);
    }]);
    for (const [name, plant] of cases) {
      const file = path.join(dir, `${name}.json`);
      plant(file);
      expect(await keptAnswer(file, 'k', 'id', async () => 'asked'), name).toBe('asked');
    }
    // The control: the same answer in a file only its owner may write is believed.
    const trusted = path.join(dir, 'trusted.json');
    fs.writeFileSync(trusted, planted, { mode: 0o600 });
    expect(await keptAnswer(trusted, 'k', 'id', async () => 'asked')).toBe('planted');
  });
});

describe("pg_config and postgres answers across runs", () => {
  const find = (answers: string, pgConfigDir: string) =>
    execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      import { findSystemBinaries } from './scripts/server/system.ts';
      const { found, reasons } = await findSystemBinaries({ PATH: ${JSON.stringify(pgConfigDir)} }, ${JSON.stringify(answers)});
      console.log(JSON.stringify(found ? [found.binDir, found.version] : reasons));`], { cwd: REPO_ROOT });

  it("starts neither program on a warm run, and asks again when a version is installed beside Debian's wrapper's answer", async () => {
    const dir = scratch();
    const calls = path.join(dir, 'calls.log');
    const root = path.join(dir, 'lib', 'postgresql');
    const bin15 = installation(root, 15, calls);
    // Debian's wrapper: the newest installation's bindir.
    script(path.join(dir, 'path', 'pg_config'), `echo "pg_config $*" >> ${calls}\nls -d ${root}/*/bin | sort -V | tail -n1`);
    const answers = path.join(dir, 'programs.json');
    const callCount = () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n').length : 0);

    expect(JSON.parse((await find(answers, path.join(dir, 'path'))).stdout)).toEqual([bin15, '15.4']);
    expect(callCount()).toBe(2);
    expect(JSON.parse((await find(answers, path.join(dir, 'path'))).stdout)).toEqual([bin15, '15.4']);
    expect(callCount()).toBe(2);

    const bin17 = installation(root, 17, calls);
    expect(JSON.parse((await find(answers, path.join(dir, 'path'))).stdout)).toEqual([bin17, '17.4']);
    expect(callCount()).toBe(4);

    // A minor upgrade replaces the program: its version is asked again, pg_config's answer still holds.
    installation(root, 17, calls);
    fs.utimesSync(path.join(bin17, 'postgres'), new Date(), new Date(Date.now() + 5_000));
    expect(JSON.parse((await find(answers, path.join(dir, 'path'))).stdout)).toEqual([bin17, '17.4']);
    expect(fs.readFileSync(calls, 'utf8').trim().split('\n').slice(4)).toEqual(['postgres --version']);
  });
});
