/** A database's URL and its libpq variables (DATABASE_URL, PG*): what `env` prints and the app's own migrator gets. */

/** DATABASE_URL and PG* for `url` (which names the database), as libpq and most ORMs read them. */
export function environmentForUrl(url: URL): Record<string, string> {
  const env: Record<string, string> = {
    DATABASE_URL: url.toString(),
    PGHOST: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    PGPORT: url.port || '5432',
    PGDATABASE: decodeURIComponent(url.pathname.replace(/^\//, '')),
  };
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  // libpq's names for the URL's TLS parameters (file paths only: never a key's content).
  for (const [param, variable] of [['sslmode', 'PGSSLMODE'], ['sslrootcert', 'PGSSLROOTCERT'], ['sslcert', 'PGSSLCERT'], ['sslkey', 'PGSSLKEY']] as const) {
    const value = url.searchParams.get(param);
    if (value) env[variable] = value;
  }
  return env;
}

/** `url` pointing at `database` instead. */
export function withDatabase(url: URL, database: string): URL {
  const copy = new URL(url.toString());
  copy.pathname = `/${encodeURIComponent(database)}`;
  return copy;
}
