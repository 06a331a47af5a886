/**
 * Secrets never reach what pgstrap prints: URL passwords (in the user part or as `?password=`) are
 * masked wherever a URL is shown, and every secret pgstrap has handled in this process (the passwords
 * of the URLs it was given, the cluster's password file) is masked in errors and in what it repeats
 * from other programs.
 */

const MASK = '***';
/** Query parameters libpq reads as passwords. */
const PASSWORD_PARAMS = ['password', 'sslpassword'];
/** Shorter secrets are masked only where they stand as a URL's password, not wherever their letters occur. */
const MIN_SCRUBBED_LENGTH = 4;

const known = new Set<string>();

/** Records a secret this process holds, so that redactSecrets masks it from then on. */
export function rememberSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SCRUBBED_LENGTH) return;
  known.add(value);
  // As it appears inside a URL.
  known.add(encodeURIComponent(value));
}

/** Records the password a URL carries (user part or `?password=`); ignores what does not parse. */
export function rememberUrlSecrets(url: string | URL | undefined): void {
  if (url === undefined) return;
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return;
  }
  if (parsed.password) rememberSecret(decodeURIComponent(parsed.password));
  for (const param of PASSWORD_PARAMS) for (const value of parsed.searchParams.getAll(param)) rememberSecret(value);
}

/** A URL with its password masked, in the user part and in `password`/`sslpassword` parameters. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    for (const param of PASSWORD_PARAMS) if (parsed.searchParams.has(param)) parsed.searchParams.set(param, MASK);
    return parsed.toString();
  } catch {
    return maskUrlPasswords(url);
  }
}

// `scheme://user:secret@` and `password=secret` (a URL parameter or a libpq keyword) anywhere in a text.
function maskUrlPasswords(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:)[^@/\s]*@/gi, `$1${MASK}@`)
    .replace(/(\b(?:ssl)?password=)(?:'(?:[^'\\]|\\.)*'|[^&\s'"]+)/gi, `$1${MASK}`);
}

/** `text` with every URL password and every remembered secret masked. */
export function redactSecrets(text: string): string {
  let result = maskUrlPasswords(text);
  // Longest first, so that a secret containing another is masked whole.
  for (const secret of [...known].sort((a, b) => b.length - a.length)) result = result.replaceAll(secret, MASK);
  return result;
}
