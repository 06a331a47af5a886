/**
 * SCRAM-SHA-256 password verifiers (RFC 5802, RFC 7677), as PostgreSQL stores them in pg_authid. A
 * verifier lets the server check a password but cannot be used to log in, so it is what pgstrap hands to
 * initdb: a copy left behind by a killed run gives nobody the password.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

/** PostgreSQL's default iteration count (scram_iterations). */
export const SCRAM_ITERATIONS = 4096;

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` for an ASCII password and a 16-byte salt. */
export function scramVerifier(password: string, salt: Buffer, iterations = SCRAM_ITERATIONS): string {
  // SASLprep leaves printable ASCII unchanged; pgstrap's passwords are base64url.
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error('scramVerifier takes printable ASCII passwords only');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
