/**
 * A refusal the protocol defines: the HTTP layer turns it into a response with this status, these headers and
 * a JSON body carrying the reason (plus any extra fields the client reads, e.g. Collabora's COOLStatusCode).
 */
export class WopiError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown> | undefined;

  constructor(
    status: number,
    reason: string,
    options: { headers?: Record<string, string>; body?: Record<string, unknown> } = {},
  ) {
    super(reason);
    this.name = 'WopiError';
    this.status = status;
    this.headers = options.headers ?? {};
    this.body = options.body;
  }
}

export const badRequest = (reason: string, headers?: Record<string, string>) => new WopiError(400, reason, { headers });
export const unauthorized = (reason: string) => new WopiError(401, reason);
export const notFound = (reason = 'file not found') => new WopiError(404, reason);
export const notImplemented = (reason: string) => new WopiError(501, reason);
