import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface PublicError {
  readonly status: number;
  /** Stable, documented code in the response body. */
  readonly code: string;
  /** Fixed text: never the error's own message, which may quote input or name internals. */
  readonly message: string;
}

/**
 * The one table deciding HTTP status and public text per error code, ours and Fastify's. Anything
 * not here is a 500 with a generic body.
 */
export const HTTP_ERRORS: Readonly<Record<string, PublicError>> = {
  CONFIG_INVALID: { status: 500, code: 'INTERNAL', message: 'Internal server error' },
  UNAUTHORIZED: { status: 401, code: 'UNAUTHORIZED', message: 'Unauthorized' },
  ADMIN_UNAUTHORIZED: { status: 401, code: 'UNAUTHORIZED', message: 'Missing or invalid admin token: send it in the x-admin-token header' },
  INVALID_SIGNATURE: { status: 401, code: 'UNAUTHORIZED', message: 'Unauthorized' },
  FORBIDDEN: { status: 403, code: 'FORBIDDEN', message: 'Forbidden' },
  THROTTLED: { status: 429, code: 'TOO_MANY_ATTEMPTS', message: 'Too many failed admin token attempts from this client; retry after the Retry-After seconds' },
  RATE_LIMITED: { status: 429, code: 'RATE_LIMITED', message: 'Too many requests; retry later' },
  BAD_REQUEST: { status: 400, code: 'BAD_REQUEST', message: 'Bad request' },
  DATABASE_UNAVAILABLE: { status: 503, code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable; retry later' },
  OVERLOADED: { status: 503, code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable; retry later' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Payload too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_REQUEST', message: 'Bad request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'BAD_REQUEST', message: 'Bad request' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'BAD_REQUEST', message: 'Bad request' },
  FST_ERR_VALIDATION: { status: 400, code: 'BAD_REQUEST', message: 'Bad request' },
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_REQUEST', message: 'Bad request' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'URI_TOO_LONG', message: 'URI too long' },
  FST_ERR_NOT_FOUND: { status: 404, code: 'NOT_FOUND', message: 'Not found' },
  // Raised by Node's HTTP parser before Fastify sees a request (see handleClientError).
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', message: 'Request not received in time' },
  HPE_HEADER_OVERFLOW: { status: 431, code: 'HEADERS_TOO_LARGE', message: 'Request headers too large' },
};

const BY_STATUS: Readonly<Record<number, PublicError>> = {
  400: HTTP_ERRORS.BAD_REQUEST!,
  404: HTTP_ERRORS.FST_ERR_NOT_FOUND!,
  413: HTTP_ERRORS.FST_ERR_CTP_BODY_TOO_LARGE!,
  415: HTTP_ERRORS.FST_ERR_CTP_INVALID_MEDIA_TYPE!,
  408: HTTP_ERRORS.ERR_HTTP_REQUEST_TIMEOUT!,
  414: HTTP_ERRORS.FST_ERR_MAX_PARAM_LENGTH!,
  429: HTTP_ERRORS.RATE_LIMITED!,
  431: HTTP_ERRORS.HPE_HEADER_OVERFLOW!,
};

const INTERNAL: PublicError = { status: 500, code: 'INTERNAL', message: 'Internal server error' };

interface ErrorLike {
  code?: unknown;
  statusCode?: unknown;
  retryAfterSeconds?: unknown;
}

/** What the client sees for an error: by code, else by a client-error status Fastify set, else 500. */
export function publicErrorFor(err: unknown): PublicError {
  const e = (err ?? {}) as ErrorLike;
  if (typeof e.code === 'string' && HTTP_ERRORS[e.code] !== undefined) return HTTP_ERRORS[e.code]!;
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) return BY_STATUS[status] ?? { status, code: 'BAD_REQUEST', message: 'Bad request' };
  return INTERNAL;
}

export function errorBody(pub: PublicError, requestId: string) {
  return { error: { code: pub.code, message: pub.message }, requestId };
}

/** Logs a refused or failed request by code (a 500 with its error) and sends the uniform body. */
function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const pub = publicErrorFor(err);
  const e = err as ErrorLike;
  if (pub.status >= 500 && pub.code === 'INTERNAL') {
    request.log.error({ err, event: 'http.unhandled_error' }, 'Request failed');
  } else {
    request.log.info({ event: 'http.client_error', code: typeof e.code === 'string' ? e.code : pub.code, statusCode: pub.status }, 'Request refused');
  }
  if (typeof e.retryAfterSeconds === 'number') void reply.header('retry-after', String(e.retryAfterSeconds));
  return reply.status(pub.status).type('application/json; charset=utf-8').send(errorBody(pub, request.id));
}

/** Installs the error and not-found handlers: bodies carry a code, fixed text and the request id. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    const pub = HTTP_ERRORS.FST_ERR_NOT_FOUND!;
    return reply.status(pub.status).send(errorBody(pub, request.id));
  });
}

/**
 * Fastify's `frameworkErrors`: errors found before routing (an undecodable URL such as `/%zz`, an
 * overlong parameter). Fastify's own answer quotes the URL; this one is the uniform body. No hook
 * has run for such a request, so the headers every response carries are set here.
 */
export function frameworkErrorHandler(err: Error, request: FastifyRequest, reply: FastifyReply): void {
  void sendError(err, request, reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff'));
}

/**
 * Fastify's `clientErrorHandler`, for what Node's HTTP parser refuses before any request exists: a
 * malformed request line or header, headers over the size limit (431), a request whose headers
 * or body missed their deadline (408). Writes the uniform error body (never the input) with a
 * fresh request id, logs the code, and closes the connection.
 */
export function handleClientError(this: FastifyInstance, err: { code?: unknown }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code = typeof err.code === 'string' ? err.code : 'CLIENT_ERROR';
  const pub = HTTP_ERRORS[code] ?? HTTP_ERRORS.BAD_REQUEST!;
  const requestId = randomUUID();
  this.log.info({ event: 'http.client_error', code, statusCode: pub.status, requestId }, 'Request refused by the HTTP parser or its deadline; connection closed');
  // A response already under way on this socket cannot take a second status line.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(pub, requestId));
  const head = [
    `HTTP/1.1 ${pub.status} ${STATUS_CODES[pub.status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'x-content-type-options: nosniff',
    'connection: close',
  ];
  // Closed once the answer is flushed; a peer that never reads cannot keep it open either.
  const force = setTimeout(() => socket.destroy(), 1_000);
  force.unref();
  socket.write(`${head.join('\r\n')}\r\n\r\n${body}`, () => {
    clearTimeout(force);
    socket.destroy();
  });
}
