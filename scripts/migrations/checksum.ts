/**
 * A migration's text and checksum, independent of how an editor saved it: a byte-order mark, CRLF or CR
 * line endings, UTF-16 or Latin-1 instead of UTF-8, and trailing blank lines change no checksum
 * (Flyway's #2474 and #2027 broke on exactly these).
 */
import { createHash } from 'node:crypto';

/** Decodes a file's bytes: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252. */
export function decodeSqlBytes(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // Not UTF-8: an editor saved it as Latin-1/Windows-1252, whose characters decode unambiguously.
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** The text with LF line endings, no BOM and no trailing whitespace at the end of the file. */
export function normaliseSql(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').trimEnd();
}

/** The SHA-256 (hex) of normalised text. */
export function sqlChecksum(text: string): string {
  return createHash('sha256').update(normaliseSql(text), 'utf8').digest('hex');
}
