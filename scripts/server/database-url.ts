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
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

/** `url` pointing at `database` instead. */
export function withDatabase(url: URL, database: string): URL {
  const copy = new URL(url.toString());
  copy.pathname = `/${encodeURIComponent(database)}`;
  return copy;
}
