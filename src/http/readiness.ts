import type { FastifyInstance } from 'fastify';

/** A check that finds Quire not ready: its reason, and what it measured. */
export class NotReady extends Error {
  override name = 'NotReady';
  constructor(
    reason: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(reason);
  }
}

/** One readiness check: resolves (with what it measured) when fine, throws (a NotReady, ideally) when not. */
export type ReadinessCheck = () => Promise<Record<string, unknown> | undefined>;

/** A check that takes longer than this fails: a probe must answer in time even when the database does not. */
const CHECK_TIMEOUT_MS = 2000;

async function run(check: ReadinessCheck): Promise<{ ok: boolean; reason?: string } & Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NotReady(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    return { ok: true, ...(await Promise.race([check(), timeout])) };
  } catch (err) {
    const details = err instanceof NotReady ? err.details : {};
    return { ok: false, reason: err instanceof Error ? err.message : String(err), ...details };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GET /readyz: 200 `{"ready": true, "checks": {…}}` when every check passes, else 503
 * `{"error": "not ready: <check>: <reason>; …", "ready": false, "checks": {…}}`. /healthz only says the process
 * answers; /readyz says whether it can do its work (a load balancer sends it writes only then). While `draining`
 * says so (the instance is shutting down), it answers 503 `{"error": "not ready: draining", "draining": true}` at
 * once, without running the checks, so a load balancer's health check takes the instance out.
 */
export function registerReadiness(
  app: FastifyInstance,
  checks: Record<string, ReadinessCheck>,
  draining: () => boolean = () => false,
): void {
  app.get('/readyz', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store');
    if (draining()) return reply.code(503).send({ error: 'not ready: draining', ready: false, draining: true });
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => run(checks[name] as ReadinessCheck)));
    const byName = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const failed = names.filter((_, i) => !results[i]?.ok);
    if (failed.length === 0) return reply.send({ ready: true, checks: byName });
    const reason = failed.map((name) => `${name}: ${byName[name]?.reason}`).join('; ');
    return reply.code(503).send({ error: `not ready: ${reason}`, ready: false, checks: byName });
  });
}
