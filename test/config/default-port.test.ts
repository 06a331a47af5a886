/** The derived default port: the same number a shell computes with POSIX cksum (nix/shell-hook.sh can, without Node). */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defaultPortFor, DEFAULT_PORT_SHELL, posixCksum } from '../../scripts/config/default-port.ts';

describe('default port', () => {
  it('is POSIX cksum, as the cksum program computes it', () => {
    for (const text of ['', 'a', '/tmp/app', '/home/someone/projects/shop with space/é', 'x'.repeat(70_000)]) {
      const printed = execFileSync('cksum', { input: text }).toString().split(' ')[0];
      expect(posixCksum(new TextEncoder().encode(text))).toBe(Number(printed));
    }
  });

  it('is what the documented shell line gives for the same folder', () => {
    for (const dir of ['/tmp/app', '/srv/projects/blog']) {
      const port = execFileSync('bash', ['-c', `dir=$1; echo ${DEFAULT_PORT_SHELL}`, 'bash', dir]).toString().trim();
      expect(Number(port)).toBe(defaultPortFor(dir));
    }
  });
});
