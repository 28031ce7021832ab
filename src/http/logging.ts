import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify';
import { type Logger, type LoggerOptions, stdSerializers } from 'pino';
import { redactDeep, redactSecrets } from '../auth/redact.ts';

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
export const redactUrl = (url: string) => redactSecrets(url);

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

type LoggerSettings = Exclude<FastifyServerOptions['logger'], boolean | undefined>;
type Serializer = (value: unknown) => unknown;

/** An error as logs show it: pino's fields, secrets taken out, and never the raw request Node's parser kept. */
function errorSerializer(theirs?: Serializer): Serializer {
  return (err) => {
    const fields = (theirs ?? (stdSerializers.err as Serializer))(err);
    if (!fields || typeof fields !== 'object') return redactDeep(fields);
    const { rawPacket: _, ...rest } = fields as Record<string, unknown>;
    // pino's error objects (causes included) are not plain objects: as plain data, every string in them is reached
    return redactDeep(JSON.parse(JSON.stringify(rest)), 8);
  };
}

/** A request as logs show it: method and URL (tokens out), never its headers. */
function requestSerializer(theirs?: Serializer): Serializer {
  return (req) => {
    if (theirs) return redactDeep(theirs(req), 6);
    const r = req as { method?: string; url?: string; ip?: string };
    return { method: r.method, url: typeof r.url === 'string' ? redactUrl(r.url) : undefined, remoteAddress: r.ip };
  };
}

/**
 * The logger settings Quire's app runs with: whatever was asked for, with access tokens kept out of every line.
 * Messages and the fields logged with them have tokens, Bearer credentials and JWTs replaced; Authorization and
 * Cookie fields are dropped whole; errors (a failed request's, a discovery failure's) are serialized with their
 * messages and stacks redacted and without the raw request bytes a parser error carries; requests show only their
 * method and redacted URL. Costs nothing for lines below the level.
 */
export function redactingLogger(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const asked: LoggerSettings = logger === true ? {} : logger;
  const serializers = (asked.serializers ?? {}) as Record<string, Serializer>;
  const theirLogMethod = asked.hooks?.logMethod;
  const hooks: LoggerOptions['hooks'] = {
    ...asked.hooks,
    logMethod(args, method, level) {
      const safe = args.map((arg) => redactDeep(arg)) as typeof args;
      // pino takes the message of an error logged on its own from the error itself
      const [first] = args as unknown[];
      if (first instanceof Error && typeof args[1] !== 'string') {
        (safe as unknown[]).splice(1, 0, redactSecrets(first.message));
      }
      if (theirLogMethod) return theirLogMethod.call(this, safe, method, level);
      return method.apply(this, safe);
    },
  };
  return {
    ...asked,
    serializers: { ...serializers, err: errorSerializer(serializers.err), req: requestSerializer(serializers.req) },
    hooks,
  } as LoggerSettings;
}
