import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/**
 * Logging that costs nothing when it is off. Fastify gives each request a child logger; making one costs more than
 * answering a CheckFileInfo, so each request gets a stand-in that makes the child only when something is actually
 * logged at an enabled level. Every request is logged at `debug` (with access tokens taken out of its URL);
 * refusals at `info` and failures at `error` are logged where they happen.
 */

type LogFn = (...args: unknown[]) => void;

class LazyChildLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  private log(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', args: unknown[]): void {
    if (!this.parent.isLevelEnabled(level)) return;
    this.made ??= this.parent.child(this.bindings);
    (this.made[level] as LogFn)(...args);
  }

  get level(): string {
    return this.parent.level;
  }
  isLevelEnabled(level: string): boolean {
    return this.parent.isLevelEnabled(level);
  }
  child(bindings: Record<string, unknown>): Logger {
    this.made ??= this.parent.child(this.bindings);
    return this.made.child(bindings);
  }
  fatal(...args: unknown[]) {
    this.log('fatal', args);
  }
  error(...args: unknown[]) {
    this.log('error', args);
  }
  warn(...args: unknown[]) {
    this.log('warn', args);
  }
  info(...args: unknown[]) {
    this.log('info', args);
  }
  debug(...args: unknown[]) {
    this.log('debug', args);
  }
  trace(...args: unknown[]) {
    this.log('trace', args);
  }
  silent() {}
}

/** Fastify's childLoggerFactory: a request's logger that is made only when used. */
export const lazyChildLogger = (parent: FastifyBaseLogger, bindings: Record<string, unknown>): FastifyBaseLogger =>
  isPino(parent) ? (new LazyChildLogger(parent, bindings) as unknown as FastifyBaseLogger) : parent.child(bindings);

/** Logging off, Fastify's stand-in logger has no levels (and its children are itself). */
const isPino = (logger: FastifyBaseLogger): logger is FastifyBaseLogger & Logger =>
  typeof (logger as Partial<Logger>).isLevelEnabled === 'function';

/** A URL as logs may show it: access tokens are credentials and never written out. */
export const redactUrl = (url: string) => url.replace(/([?&]access_token=)[^&#]*/gi, '$1[redacted]');

/** One line per answered request, at debug. */
export function logRequests(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const log = request.log;
    if ((isPino(log) || log instanceof LazyChildLogger) && (log as unknown as Logger).isLevelEnabled('debug')) {
      log.debug(
        { method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: reply.elapsedTime },
        'request answered',
      );
    }
    done();
  });
}
