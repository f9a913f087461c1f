import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { matchesAny } from '../constant-time.js';
import { BadRequestError, ForbiddenError, InvalidSignatureError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { ServiceEngine } from '../service-engine.js';
import type { WebhookIngest } from '../webhook-ingest.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../webhook-signature.js';

export interface WebhookRoutesOptions {
  readonly engine: Pick<ServiceEngine, 'accepted'>;
  /** Stores each verified event in a group commit; a delivery is answered after its group's commit. */
  readonly ingest: Pick<WebhookIngest, 'submit'>;
  readonly bodyLimitBytes: number;
  /** Counts `webhook_events_total{result}` and `webhook_signature_failures_total{reason}`. */
  readonly metrics?: Pick<Metrics, 'webhookEvent' | 'webhookSignatureFailure'>;
}

/** Meta's challenge is a short number; anything long or beyond URL-safe characters is not a handshake. */
const CHALLENGE = /^[A-Za-z0-9._~-]{1,256}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The Meta webhook. Registered in its own encapsulated context whose only body parser keeps the
 * raw bytes (any content type, up to `bodyLimitBytes`, else 413): the signature is an HMAC of
 * exactly those bytes, while the rest of the app keeps Fastify's JSON parser.
 */
export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, { engine, ingest, bodyLimitBytes, metrics }) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: bodyLimitBytes }, (_request, body, done) => done(null, body));

  // Every delivery counts once: stored or duplicate when the handler stored it, otherwise rejected
  // (whatever refused it: signature, body, size, the database), decided when the answer is sent.
  const stored = new WeakSet<object>();
  const duplicates = new WeakSet<object>();
  if (metrics !== undefined) {
    app.addHook('onResponse', async (request) => {
      if (request.method !== 'POST' || request.routeOptions.url !== '/webhook') return;
      metrics.webhookEvent(duplicates.has(request) ? 'duplicate' : stored.has(request) ? 'stored' : 'rejected');
    });
  }

  app.get('/webhook', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const mode = q['hub.mode'];
    const token = q['hub.verify_token'];
    const challenge = q['hub.challenge'];
    const ok =
      mode === 'subscribe' &&
      typeof token === 'string' &&
      typeof challenge === 'string' &&
      CHALLENGE.test(challenge) &&
      matchesAny(token, engine.accepted('META_VERIFY_TOKEN'));
    if (!ok) throw new ForbiddenError();
    // text/plain and nosniff: the challenge is echoed, so it must never be rendered as HTML.
    return reply.type('text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(challenge);
  });

  app.post('/webhook', async (request, reply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const header = request.headers[SIGNATURE_HEADER];
    const check = verifyWebhookSignature(raw, typeof header === 'string' ? header : undefined, engine.accepted('META_APP_SECRET'));
    if (!check.ok) {
      metrics?.webhookSignatureFailure(check.reason);
      throw new InvalidSignatureError();
    }

    let payload: unknown;
    try {
      payload = JSON.parse(utf8.decode(raw));
    } catch {
      throw new BadRequestError('Body is not UTF-8 JSON');
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new BadRequestError('Body is not a JSON object');
    const object = (payload as { object?: unknown }).object;
    const id = createHash('sha256').update(raw).digest('hex');
    const signedWith = check.secretIndex === 0 ? 'current' : 'previous';
    // Resolves only once the transaction holding this event has committed: no 200 before that.
    const result = await ingest.submit({ id, object: typeof object === 'string' ? object : null, body: raw, signedWith });
    const duplicate = result === 'duplicate';
    (duplicate ? duplicates : stored).add(request);
    request.log.info({ event: 'webhook.stored', eventId: id, result, duplicate, signedWith }, 'Webhook event stored');
    return reply.status(200).send({ received: true, id, duplicate });
  });
};
