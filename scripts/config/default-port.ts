/**
 * A project's default port, derived from its folder so that two projects on one machine do not collide
 * without anyone choosing a port. The formula is POSIX `cksum` (CRC-32, polynomial 0x04C11DB7, length
 * appended), so a shell computes the same number without Node: `printf %s "$dir" | cksum`.
 */

/** The range default ports fall in: below the Linux (32768-60999) and IANA/macOS (49152-65535) ephemeral ranges, where an outgoing connection could hold one. */
export const DEFAULT_PORT_RANGE = { base: 25000, size: 1000 } as const;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i += 1) {
    let c = i << 24;
    for (let k = 0; k < 8; k += 1) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** POSIX `cksum` of `bytes`: what `cksum` prints first. */
export function posixCksum(bytes: Uint8Array): number {
  let crc = 0;
  const step = (byte: number) => {
    crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  };
  for (const byte of bytes) step(byte);
  for (let n = bytes.length; n > 0; n = Math.floor(n / 256)) step(n & 0xff);
  return ~crc >>> 0;
}

/** The default port of the project in `projectDir` (an absolute path): 25000-25999, the same on every run. */
export function defaultPortFor(projectDir: string): number {
  return DEFAULT_PORT_RANGE.base + (posixCksum(new TextEncoder().encode(projectDir)) % DEFAULT_PORT_RANGE.size);
}

/** The shell line that computes defaultPortFor for `$dir`, for nix/shell-hook.sh and docs. */
export const DEFAULT_PORT_SHELL = `$(( ${DEFAULT_PORT_RANGE.base} + $(printf %s "$dir" | cksum | cut -d' ' -f1) % ${DEFAULT_PORT_RANGE.size} ))`;
