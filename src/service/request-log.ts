import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * The webhook's delivery route: a success there is counted by its group's line, not logged alone.
 * Judged on the path, not `request.routeOptions` (which builds an object on every read): only
 * `/webhook`, with or without a query, routes there, and a path that routes there while spelled
 * otherwise would only be logged as any other request.
 */
function isWebhookDelivery(request: FastifyRequest): boolean {
  if (request.method !== 'POST') return false;
  const url = request.url;
  return url === '/webhook' || url.startsWith('/webhook?');
}

/**
 * Fastify's request lines ("incoming request", "request completed"), except for deliveries on
 * `POST /webhook`: Meta sends those in bursts, and three lines each (with their serializers and
 * redaction) were a tenth of the service's CPU there. A delivery answered 2xx writes no line of its
 * own (its committed group writes one, `webhook.group_committed`, with counts, and
 * `webhook_events_total` counts it); any other answer (refused signature, bad body, 413, 503, an
 * error) writes one "request completed" line with the request, the status and the time, as every
 * request elsewhere does with its two lines.
 */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (isWebhookDelivery(request)) return;
    super.incomingRequest(request, reply, metadata);
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (!isWebhookDelivery(request)) return super.requestCompleted(error, request, reply, metadata);
    if (this.isLogDisabled(request)) return;
    if (error) {
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    } else if (reply.statusCode >= 300) {
      reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
  }
}
