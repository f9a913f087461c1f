import type { Database } from './database.js';

export interface Salon {
  readonly id: string;
  readonly name: string;
  readonly phoneNumberId: string | null;
  readonly createdAt: string;
}

export interface SalonPage {
  readonly salons: readonly Salon[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export const MAX_SALONS_PAGE = 100;

interface SalonRow {
  id: string;
  name: string;
  phone_number_id: string | null;
  created_at: Date;
}

/** One page of salons in id order (keyset pagination: every page costs the same, however deep). */
export async function listSalons(db: Pick<Database, 'query'>, page: { limit: number; after?: string }): Promise<SalonPage> {
  const limit = Math.min(Math.max(1, Math.trunc(page.limit)), MAX_SALONS_PAGE);
  const { rows } = await db.query<SalonRow>(
    'SELECT id, name, phone_number_id, created_at FROM salons WHERE id > $1 ORDER BY id LIMIT $2',
    [page.after ?? '0', limit + 1],
  );
  const salons = rows.slice(0, limit).map((r) => ({
    id: String(r.id),
    name: r.name,
    phoneNumberId: r.phone_number_id,
    createdAt: r.created_at.toISOString(),
  }));
  return { salons, nextCursor: rows.length > limit ? salons[salons.length - 1]!.id : null };
}
