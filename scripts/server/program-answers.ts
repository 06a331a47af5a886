/**
 * What PostgreSQL's programs answer about themselves (`pg_config --bindir`, `postgres --version`,
 * `postgres --describe-config`), kept in a file of the project's state folder under the identity of the
 * files the answer depends on. A warm command then starts no process to learn what it learnt last time
 * (those five processes cost a warm setup about 70 ms), and a changed program (a minor upgrade, another
 * PG_BIN, a new version installed beside Debian's wrapper) is asked again.
 *
 * The file is read only when it belongs to the user running pgstrap and nobody else may write to it, as an
 * answer names programs pgstrap will run; it is written with mode 0600 under a fresh name and renamed into
 * place, so parallel runs never read half of one (the last writer wins; a lost answer costs one process).
 */
import fs from 'node:fs';
import path from 'node:path';
import { currentUid } from './ownership.ts';
import { writeFileAtomic } from '../shared/write-file.ts';

/** One kept answer. */
interface Entry {
  identity: string;
  answer: string;
}

type Answers = Record<string, Entry>;

/** What a file is, for an identity: its real path, size and change times. Undefined when it does not exist. */
export function fileIdentity(file: string): string | undefined {
  try {
    const real = fs.realpathSync(file);
    const stat = fs.statSync(real);
    return JSON.stringify([real, stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino]);
  } catch {
    return undefined;
  }
}

function trustedRead(file: string): Answers {
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || stat.uid !== currentUid() || (stat.mode & 0o022) !== 0) return {};
      const parsed = JSON.parse(fs.readFileSync(fd, 'utf8')) as unknown;
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Answers) : {};
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return {};
  }
}

/** Best effort: a state folder that does not exist yet (the first setup, doctor before it) only costs a process next time. */
function write(file: string, answers: Answers): void {
  if (!fs.existsSync(path.dirname(file))) return;
  try {
    writeFileAtomic(file, JSON.stringify(answers), { mode: 0o600 });
  } catch {
    // Asked again next time.
  }
}

const inMemory = new Map<string, Promise<string | undefined>>();

/** A kept answer `stillTrue` cannot judge (not in the form it expects, say) is asked again, not an error. */
function holds(stillTrue: (answer: string) => boolean, answer: string): boolean {
  try {
    return stillTrue(answer);
  } catch {
    return false;
  }
}

/**
 * The answer kept in `file` under `key` while `identity` is unchanged (and `stillTrue`, for an answer that
 * depends on more than the program, says it holds), else `ask()`'s, which is kept there (an undefined
 * answer, a failure, is not). Without a file (or an identity), only this process remembers.
 */
export function keptAnswer(
  file: string | undefined,
  key: string,
  identity: string | undefined,
  ask: () => Promise<string | undefined>,
  stillTrue: (answer: string) => boolean = () => true,
): Promise<string | undefined> {
  const memoryKey = JSON.stringify([file, key, identity]);
  let found = inMemory.get(memoryKey);
  if (!found) {
    found = (async () => {
      if (file === undefined || identity === undefined) return ask();
      const kept = trustedRead(file)[key];
      if (kept?.identity === identity && typeof kept.answer === 'string' && holds(stillTrue, kept.answer)) return kept.answer;
      const answer = await ask();
      if (answer !== undefined) write(file, { ...trustedRead(file), [key]: { identity, answer } });
      return answer;
    })();
    inMemory.set(memoryKey, found);
  }
  return found;
}
