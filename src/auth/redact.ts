/**
 * Credentials as logs and messages may show them: taken out. Access tokens travel in URLs (`?access_token=`), in
 * forms and JSON (`access_token`), and in `Authorization: Bearer` headers; access tokens and sign-in sessions are
 * JWTs, which are recognised wherever they appear (a path, an error message, a cookie); so are service API keys.
 */
const REDACTED = '[redacted]';

const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // query strings and forms (access_token_ttl is no secret, and is not matched)
  [/(access_token=)[^&#\s"'<>]*/gi, `$1${REDACTED}`],
  // a parameter named just "token": the first-run setup link's (/setup?token=…), and its form
  [/(\btoken=)[^&#\s"'<>]*/gi, `$1${REDACTED}`],
  // the embed page's ticket (/embed/{id}?ticket=…), short-lived but a credential while it lasts
  [/(\bticket=)[^&#\s"'<>]*/gi, `$1${REDACTED}`],
  // a service API key, wherever it is (quire_<id>_<secret>: the id stays, to say which key it was)
  [/\b(quire_[0-9a-f]{16}_)[A-Za-z0-9_-]{43}/g, `$1${REDACTED}`],
  // an OpenID Connect authorization code, as the provider sends the browser back (/login/oidc/callback?code=…)
  [/([?&]code=)[^&#\s"'<>]*/gi, `$1${REDACTED}`],
  // JSON, e.g. a minted token printed or an editor's form echoed
  [/("access_token"\s*:\s*")[^"]*/gi, `$1${REDACTED}`],
  [/(\bBearer\s+)[^\s"',;]+/gi, `$1${REDACTED}`],
  // compact JWS (header.payload.signature, the header base64url of '{"…'), wherever it is, even glued to a word
  [/eyJ[\w-]{8,}\.[\w-]{2,}\.[\w-]*/g, REDACTED],
];

const MAY_HOLD_SECRET = /access_token|\btoken=|\bticket=|quire_|[?&]code=|bearer|eyJ/i;

/** `text` with every access token, bearer credential and JWT in it replaced by "[redacted]". */
export function redactSecrets(text: string): string {
  if (!MAY_HOLD_SECRET.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Header and field names whose values are credentials whatever they look like. */
const SECRET_KEYS = new Set([
  'authorization',
  'cookie',
  'set-cookie',
  'access_token',
  'password',
  'proxy-authorization',
]);

/**
 * `value` with secrets taken out of every string in it, down to a few levels of plain objects and arrays; secret
 * fields (Authorization, Cookie, access_token …) are replaced whole, and raw bytes (which may be a request as it
 * came off the wire) are only counted. Objects of other classes are returned as they are, for their serializers.
 */
export function redactDeep(value: unknown, depth = 4): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object' || depth === 0) return value;
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth - 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) && v !== undefined ? REDACTED : redactDeep(v, depth - 1);
  }
  return out;
}
