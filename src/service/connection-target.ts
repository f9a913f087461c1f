/**
 * Where a PostgreSQL or Redis URL points, for log lines: `host:port/database`, never the user or
 * password. The default port is filled in so "database down" names exactly what was tried.
 */
export function connectionTarget(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'unparsable URL';
  }
  const redis = parsed.protocol === 'redis:' || parsed.protocol === 'rediss:';
  const port = parsed.port || (redis ? '6379' : '5432');
  // libpq's ?host= form (a socket folder or a host given as a parameter) when the authority has none.
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  const db = parsed.pathname.replace(/^\//, '');
  return `${host}:${port}${db !== '' ? `/${decodeURIComponent(db)}` : ''}`;
}
