import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { H } from '../wopi/headers.ts';
import { operationName } from '../wopi/operations.ts';

/** The WOPI operation a request asked for, as a bounded label, or 'none' for any other route. */
function operationOf(request: FastifyRequest): string {
  const route = (request.routeOptions.url ?? '').slice(request.server.prefix.length);
  if (!route.startsWith('/wopi/')) return 'none';
  const override = request.headers[H.override.toLowerCase()];
  return operationName(
    route.endsWith('/contents') ? 'contents' : 'file',
    request.method,
    typeof override === 'string' ? override : undefined,
  );
}

/**
 * Prometheus metrics at GET /metrics, in a registry of this app's own (several Quire instances may share a process):
 * WOPI requests by operation and status, their durations, and the process's default metrics.
 */
export function registerMetrics(app: FastifyInstance): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'quire_' });
  const requests = new Counter({
    name: 'quire_wopi_requests_total',
    help: 'WOPI requests answered, by operation and HTTP status',
    labelNames: ['operation', 'status'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'quire_wopi_request_duration_seconds',
    help: 'Time to answer a WOPI request (bodies streamed in or out included), by operation',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });

  app.addHook('onResponse', async (request, reply) => {
    const operation = operationOf(request);
    if (operation === 'none') return;
    requests.inc({ operation, status: String(reply.statusCode) });
    durations.observe({ operation }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_request, reply) =>
    reply
      .type(registry.contentType)
      .header('Cache-Control', 'no-store')
      .send(await registry.metrics()),
  );
}
