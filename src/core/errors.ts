/**
 * The one error vocabulary. Anything Quire refuses on purpose is a QuireError: an HTTP status, a reason people and
 * client logs can read, and, for the protocol, the headers and extra body fields the client reads (lock ids,
 * Collabora's COOLStatusCode). The HTTP layer turns every one of them into a response in one place; anything that
 * is not a QuireError is a bug and becomes a 500 without details.
 */
export class QuireError extends Error {
  override name = 'QuireError';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, unknown>> | undefined;

  constructor(
    readonly status: number,
    reason: string,
    options: { headers?: Record<string, string>; body?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(reason, options.cause === undefined ? undefined : { cause: options.cause });
    this.headers = options.headers ?? {};
    this.body = options.body;
  }
}

export const badRequest = (reason: string, headers?: Record<string, string>) =>
  new QuireError(400, reason, headers ? { headers } : {});
export const unauthorized = (reason: string) => new QuireError(401, reason);
export const forbidden = (reason: string) => new QuireError(403, reason);
export const notFound = (reason: string) => new QuireError(404, reason);
export const conflict = (reason: string) => new QuireError(409, reason);
export const notImplemented = (reason: string) => new QuireError(501, reason);

/** A request body that grew past what the host accepts. */
export class TooLargeError extends QuireError {
  override name = 'TooLargeError';
  constructor(
    readonly limit: number,
    reason = `body is larger than this host's limit of ${limit} bytes`,
  ) {
    super(413, reason);
  }
}

/** A request body that ended (the client disconnected) before it was complete. */
export class IncompleteBodyError extends QuireError {
  override name = 'IncompleteBodyError';
  constructor() {
    super(400, 'request body ended before it was complete');
  }
}

/** The disk (or the user's quota) cannot take what was to be written: 507, and nothing was changed. */
export class InsufficientStorageError extends QuireError {
  override name = 'InsufficientStorageError';
  constructor(reason: string, options: { cause?: unknown } = {}) {
    super(507, `insufficient storage: ${reason}`, options);
  }
}

/** Error codes that mean "no room left": the filesystem's (disk full, quota used up), SQLite's and PostgreSQL's. */
const OUT_OF_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);

/** The 507 a write that ran out of room deserves, or null when `err` is something else. */
export function asInsufficientStorage(err: unknown): InsufficientStorageError | null {
  if (err instanceof InsufficientStorageError) return err;
  const code = (err as { code?: unknown } | null | undefined)?.code;
  if (typeof code !== 'string' || !OUT_OF_SPACE_CODES.has(code)) return null;
  const what = code === 'EDQUOT' ? 'the disk quota of the user running Quire is used up' : 'the disk is full';
  return new InsufficientStorageError(`${what} (${code}); nothing was saved`, { cause: err });
}
