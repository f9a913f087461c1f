import { AwsServiceError } from './errors.js';

/**
 * Opaque NextToken values: the offset of the next item, bound to the operation that issued it.
 * A token the endpoint did not issue is InvalidNextTokenException, as AWS answers.
 */
const PREFIX = 'lsm1:';

export function encodePageToken(operation: string, offset: number): string {
  return Buffer.from(`${PREFIX}${operation}:${offset}`, 'utf8').toString('base64url');
}

export function decodePageToken(operation: string, token: string | undefined): number {
  if (token === undefined) return 0;
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  const expected = `${PREFIX}${operation}:`;
  const offset = decoded.startsWith(expected) ? Number(decoded.slice(expected.length)) : Number.NaN;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new AwsServiceError('InvalidNextTokenException', 'The NextToken value is invalid.');
  }
  return offset;
}

/** One page of `items` from `offset`, with the token for the next page if there is one. */
export function paginate<T>(
  operation: string,
  items: readonly T[],
  offset: number,
  pageSize: number,
): { page: T[]; nextToken?: string } {
  const page = items.slice(offset, offset + pageSize);
  const next = offset + pageSize;
  return next < items.length ? { page, nextToken: encodePageToken(operation, next) } : { page };
}
