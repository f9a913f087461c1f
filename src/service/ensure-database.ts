import { escapeIdentifier } from 'pg';
import type { PoolFactory } from './database.js';

/** SQLSTATE of "database does not exist" and "database already exists". */
const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';

/**
 * Creates the database named in `url` when it does not exist yet, by connecting to the server's
 * `postgres` maintenance database with the same credentials. Returns whether it created it.
 * A concurrent creation by another instance counts as success.
 */
export async function ensureDatabase(url: string, createPool: PoolFactory): Promise<boolean> {
  const probe = createPool(url, 'maintenance');
  try {
    await probe.query('SELECT 1');
    return false;
  } catch (err) {
    if ((err as { code?: unknown }).code !== INVALID_CATALOG_NAME) throw err;
  } finally {
    await probe.end().catch(() => {});
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const admin = createPool(target.toString(), 'maintenance');
  try {
    await admin.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === DUPLICATE_DATABASE) return false;
    throw err;
  } finally {
    await admin.end().catch(() => {});
  }
}
