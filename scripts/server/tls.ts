/**
 * TLS for a server reached by URL, with libpq's meaning of `sslmode` (what psql, Prisma and most drivers
 * do), not node-postgres' own: pg 8 (pg-connection-string 2) treats `prefer`, `require` and `verify-ca` as
 * `verify-full` unless `uselibpqcompat=true`, so a URL that works with psql would fail here. pgstrap reads
 * the ssl parameters itself, hands pg the URL without them and an explicit `ssl` option:
 *
 * | sslmode | encrypted | certificate checked against | host name checked |
 * |---|---|---|---|
 * | `disable`, `allow` | no | - | - |
 * | `prefer` | if the server offers it (else plain) | nothing | no |
 * | `require` | yes | `sslrootcert` when given (then as verify-ca), else nothing | no |
 * | `verify-ca` | yes | `sslrootcert` (required) | no |
 * | `verify-full` | yes | `sslrootcert`, or this machine's CAs when absent or `system` | yes |
 *
 * Pure: files are read through the `read` function the caller passes.
 */
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { ExitCode, PgstrapError } from '../shared/errors.ts';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** URL parameters pgstrap reads itself and keeps from pg's own parser. */
export const TLS_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'uselibpqcompat'] as const;

/** What a URL asks for: the mode and the files it names. */
export interface TlsSettings {
  mode: SslMode;
  /** A file path, or `system` (this machine's CAs). */
  rootcert: string | undefined;
  cert: string | undefined;
  key: string | undefined;
}

/** libpq's environment variables for the parameters, read when the URL has none of them. */
const TLS_ENV: Record<string, string> = { sslmode: 'PGSSLMODE', sslrootcert: 'PGSSLROOTCERT', sslcert: 'PGSSLCERT', sslkey: 'PGSSLKEY' };

/**
 * The URL's TLS settings (else those of PGSSLMODE, PGSSLROOTCERT... in `env`, as libpq reads them); undefined
 * when neither asks for TLS (then no TLS, node-postgres' default).
 */
export function readTlsSettings(url: URL, env: Record<string, string | undefined> = {}): TlsSettings | undefined {
  const fromUrl = Object.keys(TLS_ENV).some((name) => url.searchParams.has(name));
  const param = (name: string) => (fromUrl ? (url.searchParams.get(name) ?? undefined) : env[TLS_ENV[name]!] || undefined);
  const raw = param('sslmode');
  if (raw === undefined && !param('sslrootcert') && !param('sslcert')) return undefined;
  if (raw !== undefined && !(SSL_MODES as readonly string[]).includes(raw)) {
    throw new PgstrapError({
      code: 'tls.bad-sslmode',
      message: `sslmode=${raw} in the server URL (or PGSSLMODE) is not one of ${SSL_MODES.join(', ')}`,
      remedy: 'Use sslmode=require (encrypted) or sslmode=verify-full&sslrootcert=/path/to/ca.pem (encrypted, and the server proven).',
      exit: ExitCode.usage,
    });
  }
  // libpq's default is prefer; with a root certificate given, require verifies the CA.
  const settings: TlsSettings = { mode: (raw as SslMode | undefined) ?? 'prefer', rootcert: param('sslrootcert'), cert: param('sslcert'), key: param('sslkey') };
  if (settings.mode === 'verify-ca' && (settings.rootcert === undefined || settings.rootcert === 'system')) {
    throw new PgstrapError({
      code: 'tls.rootcert-missing',
      message: 'sslmode=verify-ca needs sslrootcert=FILE: the CA the server certificate must be signed by',
      remedy: 'Add &sslrootcert=/path/to/ca.pem (your provider publishes it), or use sslmode=verify-full, which also checks the host name.',
      exit: ExitCode.usage,
    });
  }
  return settings;
}

/** The URL without the parameters pgstrap handles itself (so pg's parser does not apply its own meaning). */
export function withoutTlsParams(url: URL): URL {
  const copy = new URL(url.toString());
  for (const name of TLS_PARAMS) copy.searchParams.delete(name);
  return copy;
}

/** Whether a connection made with these settings tries plain text again when the server offers no TLS. */
export function fallsBackToPlain(settings: TlsSettings | undefined): boolean {
  return settings?.mode === 'prefer';
}

/** pg's `ssl` option for these settings; `read` returns a file's text (and throws when it cannot). */
export function tlsOptions(settings: TlsSettings, read: (file: string, what: string) => string): ConnectionOptions | false {
  if (settings.mode === 'disable' || settings.mode === 'allow') return false;
  const options: ConnectionOptions = {};
  if (settings.cert) options.cert = read(settings.cert, 'sslcert');
  if (settings.key) options.key = read(settings.key, 'sslkey');
  const ca = settings.rootcert && settings.rootcert !== 'system' ? read(settings.rootcert, 'sslrootcert') : undefined;
  if (ca !== undefined) options.ca = ca;
  switch (settings.mode) {
    case 'prefer':
      return { ...options, rejectUnauthorized: false };
    case 'require':
      // libpq: with a root certificate, require checks the chain as verify-ca does.
      return ca === undefined ? { ...options, rejectUnauthorized: false } : { ...options, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-ca':
      return { ...options, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...options, rejectUnauthorized: true };
  }
}

/** Node's error codes for a certificate chain that does not lead to a trusted CA. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** The names a certificate is for, e.g. `DNS:db.example.com, IP Address:10.0.0.5`, else its CN. */
function certificateNames(cert: PeerCertificate | undefined): string | undefined {
  if (!cert) return undefined;
  return cert.subjectaltname ?? (cert.subject?.CN ? `CN=${cert.subject.CN}` : undefined);
}

/** What went wrong in a TLS connect, in words, and its fix; undefined for an error that is not about TLS. */
export function describeTlsFailure(error: unknown, host: string, settings: TlsSettings | undefined): { code: string; message: string; remedy: string } | undefined {
  const code = (error as { code?: string }).code;
  const text = (error as Error).message ?? '';
  const ca = settings?.rootcert && settings.rootcert !== 'system' ? settings.rootcert : undefined;
  if (code !== undefined && UNTRUSTED.has(code)) {
    return {
      code: 'tls.untrusted-certificate',
      message: ca ? `the server's certificate is not signed by the CA in ${ca}` : "the server's certificate is not signed by a CA this machine trusts",
      remedy: ca
        ? `sslrootcert must name the CA that signed the server's certificate (your provider publishes its CA bundle); check that ${ca} is that file.`
        : "Download the CA that signed the server's certificate (your provider publishes it) and add &sslrootcert=/path/to/ca.pem to the URL.",
    };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = certificateNames((error as { cert?: PeerCertificate }).cert);
    return {
      code: 'tls.wrong-host',
      message: `the certificate is for ${names ?? 'another host'}, not ${host}`,
      remedy: 'Connect by a name the certificate lists (put it as the host in the URL), or, if you trust the network path, use sslmode=verify-ca to check the CA only.',
    };
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return {
      code: 'tls.certificate-dates',
      message: `the server's certificate ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet'}`,
      remedy: "Renew the server's certificate (or check this machine's clock).",
    };
  }
  if (/server does not support SSL/i.test(text)) {
    return {
      code: 'tls.not-offered',
      message: `the server does not offer TLS, and sslmode=${settings?.mode ?? 'require'} needs it`,
      remedy: 'Turn ssl on on the server, or (on a trusted network only) use sslmode=prefer or disable.',
    };
  }
  if (/no encryption/i.test(text) && (error as { code?: string }).code === '28000') {
    return {
      code: 'tls.required-by-server',
      message: 'the server accepts only encrypted connections (pg_hba.conf: hostssl) and this one was not',
      remedy: 'Add ?sslmode=require to the URL (or sslmode=verify-full&sslrootcert=/path/to/ca.pem to prove the server too).',
    };
  }
  return undefined;
}

/** How a connection is protected, as doctor tells it: the TLS version, and what was checked of the certificate. */
export function describeTlsInUse(settings: TlsSettings, protocol: string | undefined): { message: string; note: string | undefined } {
  if (protocol === undefined) return { message: `not encrypted (sslmode=${settings.mode}: the server offers no TLS)`, note: 'Turn ssl on on the server, and use sslmode=verify-full with its CA.' };
  const ca = settings.rootcert && settings.rootcert !== 'system' ? settings.rootcert : 'this machine\'s CAs';
  const checked =
    settings.mode === 'verify-full'
      ? `the certificate checked against ${ca} and the host name`
      : (settings.mode === 'verify-ca' || settings.mode === 'require') && settings.rootcert && settings.rootcert !== 'system'
        ? `the certificate checked against ${ca}, not the host name`
        : "the server's certificate not checked";
  const note = settings.mode === 'verify-full' ? undefined : 'sslmode=verify-full with sslrootcert=FILE proves the server is the one the URL names.';
  return { message: `encrypted (${protocol}), ${checked} (sslmode=${settings.mode})`, note };
}
