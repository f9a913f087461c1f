import type { CliDeps } from './deps.js';

export interface Notified {
  readonly url: string;
  readonly ok: boolean;
  readonly status: number;
}

/** Asks each running service to refresh (it tells its peers over Redis). */
export async function notifyRefresh(urls: readonly string[], token: string | undefined, deps: CliDeps): Promise<Notified[]> {
  return Promise.all(
    urls.map(async (url) => {
      try {
        const res = await deps.fetch(new URL('/admin/refresh-secrets', url), {
          method: 'POST',
          headers: token !== undefined ? { 'x-admin-token': token } : {},
          signal: AbortSignal.timeout(5_000),
        });
        await res.arrayBuffer();
        return { url, ok: res.ok, status: res.status };
      } catch {
        return { url, ok: false, status: 0 };
      }
    }),
  );
}
