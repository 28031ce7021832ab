import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../auth/tokens.ts';
import type { ProofMode } from '../discovery/editor.ts';
import { FLAVOURS } from '../discovery/flavour.ts';
import type { QuireOptions } from '../quire.ts';

/**
 * Flags and environment → options: every setting the command line takes, with its environment variable and its
 * default, read in one place. Commands only say which settings they take.
 */

/** A mistake in how Quire was called: printed with a hint to run --help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Env = Record<string, string | undefined>;

const PROOF_MODES: readonly ProofMode[] = ['off', 'log', 'enforce'];

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${what} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value as T;
}

function integer(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** The flags every command that opens the store takes. */
const STORE_FLAGS = {
  data: { type: 'string' },
  database: { type: 'string' },
  's3-endpoint': { type: 'string' },
  's3-bucket': { type: 'string' },
  's3-prefix': { type: 'string' },
  's3-region': { type: 'string' },
  's3-path-style': { type: 'boolean' },
  's3-public-endpoint': { type: 'string' },
} as const;

/** How long events, rescued saves and every autosave are kept: `serve` and `gc` take these. */
export const RETENTION_FLAGS = {
  'event-retention': { type: 'string' },
  'rescued-retention': { type: 'string' },
  'autosave-retention': { type: 'string' },
} as const;

/** Single sign-on through an OpenID Connect provider. */
const OIDC_FLAGS = {
  'oidc-issuer': { type: 'string' },
  'oidc-client-id': { type: 'string' },
  'oidc-client-secret': { type: 'string' },
  'oidc-scopes': { type: 'string' },
  'oidc-user-claim': { type: 'string' },
  'oidc-groups-claim': { type: 'string' },
  'oidc-name': { type: 'string' },
} as const;

/**
 * The single sign-on settings, from flags or the environment (the client secret best from QUIRE_OIDC_CLIENT_SECRET:
 * a flag shows in the process list). Nothing when no issuer is given; an issuer without a client id, or the other
 * way round, is a usage error.
 */
export function oidcOptions(
  values: { [K in keyof typeof OIDC_FLAGS]?: string | undefined },
  env: Env,
): Pick<QuireOptions, 'oidc'> {
  const issuer = values['oidc-issuer'] ?? env.QUIRE_OIDC_ISSUER;
  const clientId = values['oidc-client-id'] ?? env.QUIRE_OIDC_CLIENT_ID;
  if (!issuer && !clientId) return {};
  if (!issuer) throw new UsageError('--oidc-client-id needs --oidc-issuer (or QUIRE_OIDC_ISSUER)');
  if (!clientId) throw new UsageError('--oidc-issuer needs --oidc-client-id (or QUIRE_OIDC_CLIENT_ID)');
  const clientSecret = values['oidc-client-secret'] ?? env.QUIRE_OIDC_CLIENT_SECRET;
  const scopes = values['oidc-scopes'] ?? env.QUIRE_OIDC_SCOPES;
  const userClaim = values['oidc-user-claim'] ?? env.QUIRE_OIDC_USER_CLAIM;
  // "" is kept: it turns group sync off
  const groupsClaim = values['oidc-groups-claim'] ?? env.QUIRE_OIDC_GROUPS_CLAIM;
  const displayName = values['oidc-name'] ?? env.QUIRE_OIDC_NAME;
  const oidc: NonNullable<QuireOptions['oidc']> = {
    issuer,
    clientId,
    ...(clientSecret && { clientSecret }),
    ...(scopes && { scopes }),
    ...(userClaim && { userClaim }),
    ...(groupsClaim !== undefined && { groupsClaim }),
    ...(displayName && { displayName }),
  };
  if (!/^https?:\/\/[^/?#\s]+/i.test(issuer)) {
    throw new UsageError(`--oidc-issuer must be an https:// URL, not ${JSON.stringify(issuer)}`);
  }
  return { oidc };
}

const SERVE_FLAGS = {
  ...STORE_FLAGS,
  ...RETENTION_FLAGS,
  port: { type: 'string' },
  host: { type: 'string' },
  'public-url': { type: 'string' },
  'max-upload': { type: 'string' },
  'lock-ttl': { type: 'string' },
  'lock-idle-release': { type: 'string' },
  'log-level': { type: 'string' },
  editor: { type: 'string' },
  'editor-flavour': { type: 'string' },
  'proof-keys': { type: 'string' },
  'ui-language': { type: 'string' },
  'trusted-user-header': { type: 'string' },
  metrics: { type: 'boolean' },
  'min-free-space': { type: 'string' },
  'webhook-timeout': { type: 'string' },
  'webhook-retry-for': { type: 'string' },
  'sign-in-limit': { type: 'string' },
  'sign-in-address-limit': { type: 'string' },
  'frame-ancestors': { type: 'string' },
  'file-url': { type: 'boolean' },
  'drain-timeout': { type: 'string' },
  ...OIDC_FLAGS,
} as const;

type Flags = Record<string, { type: 'string' | 'boolean' }>;

/** What parseCommand answers: the flags' values by name, and the positional arguments. */
export interface ParsedCommand<F extends Flags> {
  values: {
    [K in keyof (typeof STORE_FLAGS & F)]?: (typeof STORE_FLAGS & F)[K]['type'] extends 'boolean' ? boolean : string;
  };
  positionals: string[];
}

/**
 * Parses `args` for a command: the store flags plus the command's own, and its positional arguments (exactly
 * `positionals` of them, named in the error when they are not).
 */
export function parseCommand<F extends Flags>(
  args: string[],
  own: F,
  positionals: { count: number; usage: string } = { count: 0, usage: '' },
): ParsedCommand<F> {
  const parsed = parseArgs({ args, options: { ...STORE_FLAGS, ...own }, allowPositionals: positionals.count > 0 });
  if (parsed.positionals.length !== positionals.count) throw new UsageError(positionals.usage);
  return parsed as ParsedCommand<F>;
}

/**
 * Where the store is: the data dir, and PostgreSQL when a database URL is given; and the free space writes must
 * leave on its disk (`--min-free-space`, for the commands that take it, or QUIRE_MIN_FREE_SPACE).
 */
export function storeOptions(
  values: { data?: string; database?: string; 'min-free-space'?: string } & S3Values,
  env: Env,
): QuireOptions {
  const databaseUrl = values.database ?? env.QUIRE_DATABASE_URL;
  const minFree = values['min-free-space'] ?? env.QUIRE_MIN_FREE_SPACE;
  return {
    dataDir: resolve(values.data ?? env.QUIRE_DATA ?? 'quire-data'),
    ...(databaseUrl && { databaseUrl }),
    ...(minFree && { minFreeBytes: byteSize(minFree, '--min-free-space') }),
    ...s3Options(values, env),
  };
}

type S3Values = {
  's3-endpoint'?: string | undefined;
  's3-bucket'?: string | undefined;
  's3-prefix'?: string | undefined;
  's3-region'?: string | undefined;
  's3-path-style'?: boolean | undefined;
  's3-public-endpoint'?: string | undefined;
};

/**
 * The bucket the bytes live in, when one is named (`--s3-bucket` or QUIRE_S3_BUCKET); the credentials only from the
 * environment (a flag shows in the process list): QUIRE_S3_ACCESS_KEY_ID and QUIRE_S3_SECRET_ACCESS_KEY, else the
 * SDK's usual chain (AWS_ACCESS_KEY_ID …, ~/.aws, an instance role). The other S3 settings without a bucket are a
 * usage error, as is one key without the other.
 */
export function s3Options(values: S3Values, env: Env): Pick<QuireOptions, 's3'> {
  const bucket = values['s3-bucket'] ?? env.QUIRE_S3_BUCKET;
  const endpoint = values['s3-endpoint'] ?? env.QUIRE_S3_ENDPOINT;
  const prefix = values['s3-prefix'] ?? env.QUIRE_S3_PREFIX;
  const region = values['s3-region'] ?? env.QUIRE_S3_REGION;
  const pathStyle = values['s3-path-style'] ?? /^(1|true|yes)$/i.test(env.QUIRE_S3_PATH_STYLE ?? '');
  const publicEndpoint = values['s3-public-endpoint'] ?? env.QUIRE_S3_PUBLIC_ENDPOINT;
  const accessKeyId = env.QUIRE_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.QUIRE_S3_SECRET_ACCESS_KEY;
  if (!bucket) {
    if (endpoint || prefix || region || publicEndpoint || values['s3-path-style']) {
      throw new UsageError('the --s3-… settings need --s3-bucket (or QUIRE_S3_BUCKET)');
    }
    return {};
  }
  if (endpoint && !/^https?:\/\/[^/?#\s]+/i.test(endpoint)) {
    throw new UsageError(`--s3-endpoint must be an http:// or https:// URL, not ${JSON.stringify(endpoint)}`);
  }
  if (publicEndpoint && !/^https?:\/\/[^/?#\s]+/i.test(publicEndpoint)) {
    throw new UsageError(
      `--s3-public-endpoint must be an http:// or https:// URL, not ${JSON.stringify(publicEndpoint)}`,
    );
  }
  if (!accessKeyId !== !secretAccessKey) {
    throw new UsageError('QUIRE_S3_ACCESS_KEY_ID and QUIRE_S3_SECRET_ACCESS_KEY go together: give both or neither');
  }
  return {
    s3: {
      bucket,
      ...(endpoint && { endpoint }),
      ...(prefix && { prefix }),
      ...(region && { region }),
      ...(publicEndpoint && { publicEndpoint }),
      ...(pathStyle && { forcePathStyle: true }),
      ...(accessKeyId && secretAccessKey && { credentials: { accessKeyId, secretAccessKey } }),
    },
  };
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "1073741824", "512M", "1G", "1.5GiB", "10T": bytes, the units powers of 1024; a mistake is a usage error. */
export function byteSize(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${what} must be a size such as 1G, 500M or 1073741824, not ${JSON.stringify(text)}`);
  return Math.floor(Number(m[1]) * (BYTE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
}

/**
 * A duration that can be switched off: 0, "off" or "forever" give 0 (for a retention: keep everything; for the idle
 * lock release: never).
 */
function optionalDuration<K extends string>(
  text: string | undefined,
  key: K,
  what: string,
): Partial<Record<K, number>> {
  if (text === undefined || text === '') return {};
  const ms = /^(0|off|forever)$/i.test(text.trim()) ? 0 : duration(text, what);
  return { [key]: ms } as Partial<Record<K, number>>;
}

/** How long `quire serve` lets requests in flight finish after SIGTERM or SIGINT, unless told otherwise. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export interface ServeSettings {
  options: QuireOptions;
  port: number;
  hostname: string;
  /** On SIGTERM / SIGINT, how long requests in flight may take to finish before they are cut (ms). */
  drainTimeoutMs: number;
}

/** Everything `quire serve` takes. */
export function serveSettings(args: string[], env: Env): ServeSettings {
  const { values } = parseArgs({ args, options: SERVE_FLAGS });
  const editorUrl = values.editor ?? env.QUIRE_EDITOR_URL;
  const flavour = oneOf(values['editor-flavour'] ?? env.QUIRE_EDITOR_FLAVOUR, FLAVOURS, '--editor-flavour');
  const proofKeys = oneOf(values['proof-keys'] ?? env.QUIRE_PROOF_KEYS, PROOF_MODES, '--proof-keys');
  const uiLanguage = values['ui-language'] ?? env.QUIRE_UI_LANGUAGE;
  const trustedUserHeader = values['trusted-user-header'] ?? env.QUIRE_TRUSTED_USER_HEADER;
  const publicUrl = values['public-url'] ?? env.QUIRE_PUBLIC_URL;
  return {
    port: integer(values.port ?? env.QUIRE_PORT ?? '8080', '--port'),
    hostname: values.host ?? env.QUIRE_HOST ?? '127.0.0.1',
    drainTimeoutMs: drainTimeout(values['drain-timeout'] ?? env.QUIRE_DRAIN_TIMEOUT),
    options: {
      ...storeOptions(values, env),
      ...(publicUrl && { publicUrl }),
      ...(values['max-upload'] && { maxUploadBytes: integer(values['max-upload'], '--max-upload') }),
      ...(values['lock-ttl'] && { lockTtlMs: duration(values['lock-ttl'], '--lock-ttl') }),
      ...optionalDuration(
        values['lock-idle-release'] ?? env.QUIRE_LOCK_IDLE_RELEASE,
        'lockIdleReleaseMs',
        '--lock-idle-release',
      ),
      logger: { level: values['log-level'] ?? env.QUIRE_LOG_LEVEL ?? 'info' },
      editor: {
        ...(editorUrl && { url: editorUrl }),
        ...(flavour && { flavour }),
        ...(proofKeys && { proofKeys }),
        ...(uiLanguage && { uiLanguage }),
      },
      ...(trustedUserHeader && { trustedUserHeader }),
      ...oidcOptions(values, env),
      ...signInLimitOptions(values, env),
      ...frameAncestorOptions(values['frame-ancestors'] ?? env.QUIRE_FRAME_ANCESTORS),
      ...retentionOptions(values, env),
      ...webhookOptions(values, env),
      metrics: values.metrics === true || env.QUIRE_METRICS === '1',
      ...fileUrlOptions(
        values['file-url'] ?? /^(1|true|yes)$/i.test(env.QUIRE_FILE_URL ?? ''),
        values['s3-bucket'] ?? env.QUIRE_S3_BUCKET,
      ),
    },
  };
}

/**
 * The origins that may frame the embedded host page (`--frame-ancestors "https://app.example.com …"`, separated by
 * spaces or commas): each a scheme, host and optional port, nothing more, so nothing else reaches the CSP header.
 */
export function frameAncestorOptions(text: string | undefined): Pick<QuireOptions, 'frameAncestors'> {
  if (text === undefined || text.trim() === '') return {};
  const origins = text.split(/[\s,]+/).filter((o) => o !== '');
  for (const origin of origins) {
    if (!/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(origin)) {
      throw new UsageError(
        `--frame-ancestors takes origins such as https://app.example.com (no path), not ${JSON.stringify(origin)}`,
      );
    }
  }
  return { frameAncestors: origins };
}

type WindowLimit = NonNullable<NonNullable<QuireOptions['signInLimits']>['perName']>;

/**
 * A sign-in limit: "10/15m" (failures per window), or 0 / off (no limit of this kind); a mistake is a usage error.
 */
export function windowLimit(text: string, what: string): WindowLimit {
  const trimmed = text.trim();
  if (/^(0|off)$/i.test(trimmed)) return { max: 0, windowMs: 60_000 };
  const m = /^(\d+)\s*\/\s*(\S+)$/.exec(trimmed);
  if (!m)
    throw new UsageError(`${what} must be failures per window such as 10/15m, or off, not ${JSON.stringify(text)}`);
  const windowMs = duration(m[2] as string, what);
  if (windowMs <= 0) throw new UsageError(`${what}: the window must be longer than 0`);
  return { max: Number(m[1]), windowMs };
}

function signInLimitOptions(
  values: { 'sign-in-limit'?: string | undefined; 'sign-in-address-limit'?: string | undefined },
  env: Env,
): Partial<QuireOptions> {
  const perName = values['sign-in-limit'] ?? env.QUIRE_SIGN_IN_LIMIT;
  const perAddress = values['sign-in-address-limit'] ?? env.QUIRE_SIGN_IN_ADDRESS_LIMIT;
  if (!perName && !perAddress) return {};
  return {
    signInLimits: {
      ...(perName && { perName: windowLimit(perName, '--sign-in-limit') }),
      ...(perAddress && { perAddress: windowLimit(perAddress, '--sign-in-address-limit') }),
    },
  };
}

/** The drain timeout: a duration ("30s", "2m", "1500ms"; 0 cuts at once), 30 s when not given. */
function drainTimeout(text: string | undefined): number {
  return text === undefined || text === '' ? DEFAULT_DRAIN_TIMEOUT_MS : duration(text, '--drain-timeout');
}

/**
 * `--file-url` (QUIRE_FILE_URL=1): CheckFileInfo's FileUrl for the editors that use it, presigned by the S3 blob
 * store. Without a bucket there is nothing to presign: a usage error, not a setting that silently does nothing.
 */
export function fileUrlOptions(on: boolean, bucket: string | undefined): Pick<QuireOptions, 'fileUrl'> {
  if (!on) return {};
  if (!bucket) {
    throw new UsageError('--file-url needs --s3-bucket (or QUIRE_S3_BUCKET): only an S3 bucket can hand out FileUrls');
  }
  return { fileUrl: true };
}

/** "10h", "30m", "45s", "2d" or milliseconds; a mistake is a usage error. */
export function duration(text: string, what: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new UsageError(`${what}: ${(err as Error).message}`);
  }
}

/** The retention settings (0, off or forever: keep everything), from flags or the environment. */
export function retentionOptions(
  values: { [K in keyof typeof RETENTION_FLAGS]?: string | undefined },
  env: Env,
): Partial<QuireOptions> {
  return {
    ...optionalDuration(
      values['event-retention'] ?? env.QUIRE_EVENT_RETENTION,
      'eventRetentionMs',
      '--event-retention',
    ),
    ...optionalDuration(
      values['rescued-retention'] ?? env.QUIRE_RESCUED_RETENTION,
      'rescuedRetentionMs',
      '--rescued-retention',
    ),
    ...optionalDuration(
      values['autosave-retention'] ?? env.QUIRE_AUTOSAVE_RETENTION,
      'autosaveRetentionMs',
      '--autosave-retention',
    ),
  };
}

/** How long a webhook delivery attempt may take, and how long a delivery is retried, from flags or the environment. */
function webhookOptions(
  values: { 'webhook-timeout'?: string | undefined; 'webhook-retry-for'?: string | undefined },
  env: Env,
): Pick<QuireOptions, 'webhooks'> {
  const timeout = values['webhook-timeout'] ?? env.QUIRE_WEBHOOK_TIMEOUT;
  const retryFor = values['webhook-retry-for'] ?? env.QUIRE_WEBHOOK_RETRY_FOR;
  if (!timeout && !retryFor) return {};
  return {
    webhooks: {
      ...(timeout && { timeoutMs: duration(timeout, '--webhook-timeout') }),
      ...(retryFor && { retryForMs: duration(retryFor, '--webhook-retry-for') }),
    },
  };
}

/** What `quire migrate` was asked: the embedded data dir to read, the database and/or bucket to fill. */
export interface MigrateSettings {
  dataDir: string;
  databaseUrl?: string;
  blobs?: NonNullable<QuireOptions['s3']>;
  live: boolean;
}

export const MIGRATE_USAGE =
  'usage: quire migrate --to postgres://… [--blobs s3://BUCKET/PREFIX] | --blobs s3://BUCKET/PREFIX [--data DIR] [--live] [--s3-endpoint URL] [--s3-region R] [--s3-path-style]';

/**
 * `quire migrate`'s settings. The target is named by `--to` (a PostgreSQL URL) and `--blobs` (s3://bucket/prefix);
 * the bucket's endpoint, region, path style and credentials come as for every command (--s3-…, QUIRE_S3_…, read by
 * s3Options), but never its name or prefix from QUIRE_S3_BUCKET / QUIRE_S3_PREFIX: those describe where a Quire
 * reads, and a migration's target is said on its command line.
 */
export function migrateSettings(args: string[], env: Env): MigrateSettings {
  const { values } = parseCommand(args, {
    to: { type: 'string' },
    blobs: { type: 'string' },
    live: { type: 'boolean' },
  });
  if (values.database)
    throw new UsageError(`quire migrate names its target with --to, not --database\n${MIGRATE_USAGE}`);
  if (values['s3-bucket'] || values['s3-prefix']) {
    throw new UsageError(`quire migrate names the bucket and prefix with --blobs s3://BUCKET/PREFIX\n${MIGRATE_USAGE}`);
  }
  if (!values.to && !values.blobs) throw new UsageError(`quire migrate needs --to, --blobs or both\n${MIGRATE_USAGE}`);
  if (values.to && !/^postgres(ql)?:\/\//i.test(values.to)) {
    throw new UsageError(
      `--to must be a postgres:// URL, not ${JSON.stringify(values.to.replace(/:[^:@/]*@/, ':***@'))}`,
    );
  }
  let blobs: MigrateSettings['blobs'];
  if (values.blobs) {
    const m = /^s3:\/\/([^/\s]+)(?:\/(.*))?$/i.exec(values.blobs);
    if (!m)
      throw new UsageError(`--blobs must be s3://BUCKET or s3://BUCKET/PREFIX, not ${JSON.stringify(values.blobs)}`);
    blobs = s3Options({ ...values, 's3-bucket': m[1], 's3-prefix': m[2] ?? '' }, env).s3;
  } else if (values['s3-endpoint'] || values['s3-region'] || values['s3-path-style']) {
    throw new UsageError(
      `the --s3-… settings describe the --blobs bucket: give --blobs s3://BUCKET/PREFIX\n${MIGRATE_USAGE}`,
    );
  }
  return {
    dataDir: resolve(values.data ?? env.QUIRE_DATA ?? 'quire-data'),
    ...(values.to && { databaseUrl: values.to }),
    ...(blobs && { blobs }),
    live: values.live === true,
  };
}
