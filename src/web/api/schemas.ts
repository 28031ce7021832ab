import { API_SCOPES } from '../../access/api-keys.ts';
import type { Access } from '../../access/policy.ts';
import { ROLES, SHARE_ROLES } from '../../access/roles.ts';
import { MAX_WATERMARK_LENGTH } from '../../access/sharing.ts';
import { TEMPLATES } from '../../documents/templates.ts';
import type { DeliveryState, Group, Principal, VersionSource } from '../../storage/types.ts';
import { PING_TYPE, WEBHOOK_EVENTS } from '../../webhooks/vocabulary.ts';

/**
 * The JSON API's route schemas, written once: Fastify validates each request's path and query by them, readJsonObject
 * (json-body.ts) its JSON body, and the OpenAPI document (openapi.ts) is generated from them. Answers are described,
 * not reshaped: the API scope serializes with JSON.stringify (see index.ts), and test/openapi.test.ts holds real
 * answers to these shapes, so a field a handler adds without saying so here fails a test instead of vanishing.
 *
 * Request bodies are open (a field the route does not know is ignored, as before); answers are closed. What a schema
 * cannot say (a legal file name, a time in the future, a known user) is still checked where it was, with its reason.
 */

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

/** The JSON Schema keywords Quire's schemas use (a typo in a keyword is a compile error, not a silent no-op). */
export interface JsonSchema {
  type?: JsonType | readonly JsonType[];
  /**
   * In a refusal's reason: what a valid value is ("a positive whole number", for a pattern or a choice of forms), or
   * for the items of a list, what one is called ("scope": `unknown scope "x"`).
   */
  title?: string;
  description?: string;
  properties?: Readonly<Record<string, JsonSchema>>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: readonly (string | number | boolean | null)[];
  anyOf?: readonly JsonSchema[];
  format?: 'date-time' | 'uri' | 'email' | 'binary';
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  examples?: readonly unknown[];
}

/** An answer in another media type than JSON (a download, an export, a stream), as OpenAPI describes one. */
interface ContentAnswer {
  description: string;
  content: Readonly<Record<string, { schema: JsonSchema }>>;
}

/** One route's schema, in the form Fastify and @fastify/swagger read. */
export interface RouteSchema {
  tags: readonly [Tag];
  summary: string;
  description?: string;
  /** Only where it differs from what `scopeFor` (service.ts) says: the OpenAPI document derives the rest. */
  security?: ReadonlyArray<Readonly<Record<string, readonly string[]>>>;
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: JsonSchema | { content: Readonly<Record<string, { schema: JsonSchema }>> };
  response: Readonly<Record<string, JsonSchema | ContentAnswer>>;
}

/** The API's parts, as the OpenAPI document groups them. */
export const TAGS = {
  me: 'Who is signed in',
  files: 'Documents',
  versions: 'Versions',
  rescued: 'Rescued saves',
  sharing: 'Sharing',
  events: 'Events',
  locks: 'Editing sessions',
  admin: 'People and groups',
  'api-keys': 'API keys',
  tokens: 'Tokens',
  webhooks: 'Webhooks',
  openapi: 'This document',
} as const;
export type Tag = keyof typeof TAGS;

// ---- building blocks

const text = (description?: string, more: JsonSchema = {}): JsonSchema => ({
  type: 'string',
  ...(description !== undefined && { description }),
  ...more,
});
const whole = (description?: string): JsonSchema => ({
  type: 'integer',
  ...(description !== undefined && { description }),
});
const flag = (description?: string): JsonSchema => ({
  type: 'boolean',
  ...(description !== undefined && { description }),
});
const time = (description?: string): JsonSchema => text(description, { format: 'date-time' });
const orNull = (schema: JsonSchema): JsonSchema => ({ ...schema, type: [schema.type as JsonType, 'null'] });
const oneOfThese = (values: readonly string[], description?: string): JsonSchema => text(description, { enum: values });
const listOf = (items: JsonSchema, description?: string): JsonSchema => ({
  type: 'array',
  items,
  ...(description !== undefined && { description }),
});

/**
 * An object with these properties, every one required but those named in `optional`. Answers are closed (`open`
 * false): the tests then catch a field that is not documented. Request bodies are open.
 */
function object(
  properties: Record<string, JsonSchema>,
  { optional = [], open = false, description }: { optional?: string[]; open?: boolean; description?: string } = {},
): JsonSchema {
  return {
    type: 'object',
    ...(description !== undefined && { description }),
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: open,
  };
}

/** Path parameters: each one a non-empty string unless given a schema of its own. */
function params(names: Record<string, JsonSchema | string>): JsonSchema {
  return object(
    Object.fromEntries(
      Object.entries(names).map(([name, s]) => [name, typeof s === 'string' ? text(s, { minLength: 1 }) : s]),
    ),
  );
}

/** A query string: every parameter optional; others are ignored. */
const query = (properties: Record<string, JsonSchema>): JsonSchema =>
  object(properties, { optional: Object.keys(properties), open: true });

/** A JSON request body; its properties are optional unless named in `required`. */
const jsonBody = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema =>
  object(properties, { optional: Object.keys(properties).filter((k) => !required.includes(k)), open: true });

// ---- the shapes of answers (and the error every refusal has)

/** Every refusal: a 4xx or 5xx with the reason; some carry more (a 401 says where to sign in). */
export const ERROR = {
  type: 'object',
  description: 'Refused (4xx) or failed (5xx): the reason, in words',
  properties: { error: text('Why the request was refused') },
  required: ['error'],
  additionalProperties: true,
} as const satisfies JsonSchema;

const person = object({ id: text(), name: text('Display name') });
const VIA = ['admin', 'owner', 'share', 'group', 'link', 'app'] as const satisfies readonly Access['via'][];
const SOURCES = ['import', 'put', 'put-relative', 'restore'] as const satisfies readonly VersionSource[];
const KINDS = ['user', 'group'] as const satisfies readonly Principal['kind'][];
const GROUP_SOURCES = ['local', 'provider'] as const satisfies readonly Group['source'][];
const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const satisfies readonly DeliveryState[];
const secureViewShown = orNull(
  object({ watermark: text('The watermark template; empty for the default') }, { description: 'null: none' }),
);

const sharingSummary = object(
  {
    shares: listOf(object({ kind: oneOfThese(KINDS), id: text(), name: text(), role: oneOfThese(SHARE_ROLES) })),
    links: whole('How many of its links work now'),
  },
  { description: "What is shared of it (documents the caller manages only): the list's Shared marker" },
);

export const FILE = object(
  {
    id: text(),
    name: text(),
    size: whole('Bytes'),
    version: whole('Goes up by one with every change of content'),
    modifiedAt: time(),
    modifiedBy: person,
    ownerId: text(),
    locked: flag('An editor holds its lock'),
    lockExpiresAt: time(),
    role: oneOfThese(ROLES, 'What the caller may do with it'),
    via: oneOfThese(VIA, 'Why the caller has that role'),
    secureView: flag('Shown to the caller for viewing only: no download'),
    urls: object({ edit: text(), view: text(), download: text(), history: text() }),
    sharing: sharingSummary,
  },
  { optional: ['lockExpiresAt', 'role', 'via', 'secureView', 'sharing'], description: 'A document' },
);

const saveFlags = {
  modifiedByUser: flag(),
  autosave: flag(),
  exitSave: flag(),
  fileConversion: flag(),
};
const SAVE_FLAGS = Object.keys(saveFlags);

export const VERSION = object(
  {
    version: whole(),
    current: flag('It is the document as it is now'),
    size: whole(),
    sha256: text(),
    createdAt: time(),
    author: person,
    source: oneOfThese(SOURCES),
    ...saveFlags,
    download: text(),
  },
  { optional: SAVE_FLAGS, description: 'A version of a document' },
);

export const RESCUED = object(
  {
    id: whole(),
    createdAt: time(),
    author: person,
    size: whole(),
    sha256: text(),
    reason: text('Why the save was refused, as its editor was told'),
    source: oneOfThese(['put', 'put-relative']),
    lock: text('The lock the editor sent with it'),
    editors: text('The editors who contributed (X-WOPI-Editors)'),
    ...saveFlags,
    download: text(),
    restore: text(),
  },
  { optional: ['lock', 'editors', ...SAVE_FLAGS], description: 'A save Quire refused and kept' },
);

export const LINK = object(
  {
    id: text(),
    url: text('The link to hand out'),
    role: oneOfThese(SHARE_ROLES),
    secureView: secureViewShown,
    hasPassword: flag(),
    expiresAt: orNull(time()),
    disabled: flag(),
    expired: flag(),
    createdAt: time(),
  },
  { description: 'A share link' },
);

export const SHARE = object(
  {
    principal: object({ kind: oneOfThese(KINDS), id: text(), name: text() }),
    role: oneOfThese(SHARE_ROLES),
    secureView: secureViewShown,
    createdAt: time(),
  },
  { description: 'A document shared with a person or a group' },
);

const ACCESS = object(
  {
    you: object({
      role: oneOfThese(ROLES),
      via: oneOfThese(VIA),
      secureView: flag(),
      manages: flag('May change who has access'),
    }),
    owner: person,
    shares: listOf(SHARE),
    links: listOf(LINK, 'Only for those who manage the document'),
  },
  { optional: ['links'] },
);

const PEOPLE = object({
  users: listOf(object({ id: text(), name: text('Sign-in name'), displayName: text() })),
  groups: listOf(object({ id: text(), name: text(), source: oneOfThese(GROUP_SOURCES) })),
});

const ACCOUNT = object({
  id: text(),
  name: text('Sign-in name'),
  displayName: text(),
  isAdmin: flag(),
  disabled: flag(),
  createdAt: time(),
  groups: listOf(object({ id: text(), name: text() })),
});

const GROUP = object({
  id: text(),
  name: text(),
  source: oneOfThese(GROUP_SOURCES),
  createdAt: time(),
  members: listOf(object({ id: text(), name: text(), displayName: text() })),
});

const apiKeyFields = {
  id: text(),
  name: text(),
  scopes: listOf(oneOfThese(API_SCOPES)),
  prefix: text('How the key starts: enough to recognise it, never the secret'),
  status: oneOfThese(['active', 'expired', 'revoked']),
  createdAt: time(),
  createdBy: person,
  expiresAt: orNull(time()),
  revokedAt: orNull(time()),
  lastUsedAt: orNull(time()),
};
const API_KEY = object(apiKeyFields, { description: 'A service API key (never its secret)' });

const WEBHOOK_TYPES = Object.keys(WEBHOOK_EVENTS);
const webhookFields = {
  id: text(),
  url: text(),
  events: orNull(listOf(oneOfThese(WEBHOOK_TYPES), 'null: every event type, including those added later')),
  description: text(),
  createdAt: time(),
  createdBy: text('Who registered it: a user id, or the CLI operator'),
};
const WEBHOOK = object(webhookFields);

const DELIVERY = object({
  id: text('The same across retries and redeliveries: receivers deduplicate on it'),
  type: text(`The event type, or ${PING_TYPE}`),
  eventId: orNull(whole()),
  state: oneOfThese(DELIVERY_STATES),
  attempts: whole(),
  createdAt: time(),
  lastAttemptAt: orNull(time()),
  lastStatus: orNull(whole()),
  lastError: orNull(text()),
  nextAttemptAt: orNull(time()),
  finishedAt: orNull(time()),
});

export const EVENT_VIEW = object(
  {
    id: whole(),
    at: time(),
    type: text('What happened, e.g. file.saved'),
    fileId: text(),
    user: person,
    address: text(),
    client: text(),
    correlationId: text(),
    sessionId: text(),
    details: { type: 'object', additionalProperties: true },
  },
  {
    optional: ['fileId', 'user', 'address', 'client', 'correlationId', 'sessionId', 'details'],
    description: 'An event of the audit trail',
  },
);

const EDITING_SESSION = object(
  {
    fileId: text(),
    name: text(),
    lock: text('The lock value the editor holds'),
    expiresAt: time(),
    since: time(),
    by: person,
    client: text(),
    lastRefresh: time(),
    lastSave: time(),
    editors: text(),
    idleReleaseAt: time('When Quire releases the lock if its editor stays silent'),
  },
  { optional: ['since', 'by', 'client', 'lastRefresh', 'lastSave', 'editors', 'idleReleaseAt'] },
);

// ---- request parts

const FILE_ID = params({ id: 'The document id' });
const versionNumber = text(undefined, { pattern: '^[1-9][0-9]{0,9}$', title: 'a positive whole number' });
const rescuedNumber = text(undefined, { pattern: '^[1-9][0-9]{0,14}$', title: 'a positive whole number' });
const eventCursor = text(undefined, { pattern: '^[0-9]{0,15}$', title: 'an event id (a whole number)' });

/** What may be given as secure view: true (the default watermark), false or null (none), or a watermark of one's own. */
const secureViewInput = (max: number): JsonSchema => ({
  title: `true, false, null or {"watermark": "text of at most ${max} characters"}`,
  anyOf: [{ type: ['boolean', 'null'] }, jsonBody({ watermark: text(undefined, { maxLength: max }) })],
});
const timeInput = (description: string): JsonSchema => ({
  type: ['string', 'number', 'null'],
  description: `${description}: ISO 8601, or milliseconds since 1970; null for never`,
});

const EVENT_QUERY = {
  user: text('Only what this user id did'),
  before: { ...eventCursor, description: 'Older than this event id (paging back)' },
  after: { ...eventCursor, description: 'Newer than this event id, oldest first (following)' },
  limit: { ...eventCursor, description: 'At most this many, 1 to 1000 (100 unless given)' },
};

// ---- answers

const ok = (schema: JsonSchema, description: string) => ({ ...schema, description });
const NO_CONTENT = { type: 'null', description: 'Done; no body' } as const satisfies JsonSchema;
const BYTES: ContentAnswer = {
  description: 'The bytes, as a download (Content-Disposition names the file)',
  content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
};
/** The answers of a route: its own, and the error shape of every refusal. */
const answers = (own: Record<string, JsonSchema | ContentAnswer>) => ({ ...own, default: ERROR });

function route(tag: Tag, summary: string, parts: Omit<RouteSchema, 'tags' | 'summary'>): RouteSchema {
  return { tags: [tag], summary, ...parts };
}

// ---- the routes, by module

export const ME = {
  get: route('me', 'Who is signed in', {
    response: answers({
      200: ok(object({ id: text(), name: text(), displayName: text(), isAdmin: flag() }), 'The signed-in user'),
    }),
  }),
};

export const TEMPLATE_LIST = route('files', 'What can be made from a template', {
  response: answers({
    200: ok(
      listOf(object({ kind: oneOfThese(TEMPLATES.map((t) => t.kind)), label: text(), ext: text() })),
      'Templates',
    ),
  }),
});

export const FILES = {
  list: route('files', 'The documents one may see', {
    querystring: query({
      scope: oneOfThese(
        ['all', 'mine', 'shared'],
        'Owned (mine), shared with one (shared), or both (all, the default)',
      ),
    }),
    response: answers({ 200: ok(listOf(FILE), 'The documents') }),
  }),
  upload: route('files', 'Upload a document', {
    description: 'The body is the file, streamed as it is (any media type); `?name=` names it.',
    querystring: query({ name: text('The file name, extension included', { minLength: 1 }) }),
    body: { content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
    response: answers({ 201: ok(FILE, 'The new document') }),
  }),
  create: route('files', 'A new, empty document from a template', {
    body: jsonBody(
      {
        kind: oneOfThese(
          TEMPLATES.map((t) => t.kind),
          'Which template',
        ),
        name: text('Its name; the extension is added (New document… unless given)'),
      },
      ['kind'],
    ),
    response: answers({ 201: ok(FILE, 'The new document') }),
  }),
  get: route('files', 'One document', { params: FILE_ID, response: answers({ 200: ok(FILE, 'The document') }) }),
  rename: route('files', 'Rename a document (editors)', {
    params: FILE_ID,
    body: jsonBody({ name: text('The new name, extension included', { minLength: 1 }) }, ['name']),
    response: answers({ 200: ok(FILE, 'The renamed document') }),
  }),
  delete: route('files', 'Delete a document (its owner)', {
    params: FILE_ID,
    response: answers({ 204: NO_CONTENT }),
  }),
  content: route('files', 'Download a document', { params: FILE_ID, response: answers({ 200: BYTES }) }),
};

const VERSION_PARAMS = params({ id: 'The document id', version: versionNumber });
export const VERSIONS = {
  list: route('versions', "A document's versions, newest first", {
    params: FILE_ID,
    response: answers({ 200: ok(listOf(VERSION), 'The versions') }),
  }),
  content: route('versions', 'Download one version', { params: VERSION_PARAMS, response: answers({ 200: BYTES }) }),
  restore: route('versions', 'Make an old version the newest (editors)', {
    params: VERSION_PARAMS,
    response: answers({ 200: ok(FILE, 'The document, its content now that version') }),
  }),
};

const RESCUED_PARAMS = params({ id: 'The document id', rescued: rescuedNumber });
export const RESCUED_SAVES = {
  list: route('rescued', "A document's rescued saves", {
    params: FILE_ID,
    response: answers({ 200: ok(listOf(RESCUED), 'The rescued saves') }),
  }),
  content: route('rescued', 'Download a rescued save', { params: RESCUED_PARAMS, response: answers({ 200: BYTES }) }),
  restore: route('rescued', 'Make a rescued save the newest version (editors)', {
    params: RESCUED_PARAMS,
    response: answers({ 200: ok(FILE, 'The document, its content now the rescued save') }),
  }),
};

export const EVENTS = {
  list: route('events', 'The audit trail', {
    description:
      'Newest first (oldest first with `after`). Admins see every event; others, the events of the documents they can see and their own.',
    querystring: query({ file: text('Only the events of this document id'), ...EVENT_QUERY }),
    response: answers({ 200: ok(listOf(EVENT_VIEW), 'The events') }),
  }),
  export: route('events', 'The audit trail as JSON lines (a download)', {
    querystring: query({ file: text('Only the events of this document id'), ...EVENT_QUERY }),
    response: answers({
      200: {
        description: 'One event (as GET /api/events shows it) per line',
        content: { 'application/x-ndjson': { schema: text() } },
      },
    }),
  }),
  ofFile: route('events', "A document's events", {
    params: FILE_ID,
    querystring: query(EVENT_QUERY),
    response: answers({ 200: ok(listOf(EVENT_VIEW), 'The events') }),
  }),
  stream: route('events', 'Events as they happen (Server-Sent Events)', {
    description:
      'One `quire` event per event, its data as GET /api/events shows it and its id the event id; a client that reconnects with Last-Event-ID first gets what it missed.',
    querystring: query({ after: text('Start after this event id (as Last-Event-ID does)') }),
    response: answers({
      200: { description: 'The stream', content: { 'text/event-stream': { schema: text() } } },
    }),
  }),
};

export const LOCKS = {
  list: route('locks', 'Open editing sessions: the locks editors hold (admins: all; others: their documents)', {
    response: answers({ 200: ok(listOf(EDITING_SESSION), 'The editing sessions') }),
  }),
  break: route('locks', "Break a document's lock (admins and its owner), saying why", {
    params: FILE_ID,
    body: jsonBody({ reason: text('Why, for the audit trail', { minLength: 1, maxLength: 500 }) }, ['reason']),
    response: answers({
      200: ok(object({ fileId: text(), broken: text('The lock that was broken'), reason: text() }), 'Broken'),
    }),
  }),
};

const linkFields = {
  role: oneOfThese(SHARE_ROLES, 'What the link allows'),
  secureView: secureViewInput(MAX_WATERMARK_LENGTH),
  expiresAt: timeInput('When it stops working'),
  password: { type: ['string', 'null'], description: 'A password guests must give; null or empty for none' },
} satisfies Record<string, JsonSchema>;

export const SHARING = {
  access: route('sharing', 'Who has access to a document', {
    params: FILE_ID,
    response: answers({ 200: ok(ACCESS, 'Who has access, and what the caller may do') }),
  }),
  share: route('sharing', 'Share with a person or a group, or change their role (the owner, admins)', {
    params: FILE_ID,
    body: jsonBody(
      {
        user: text('A user name or id (or give group)'),
        group: text('A group name or id (or give user)'),
        role: oneOfThese(SHARE_ROLES),
        secureView: secureViewInput(MAX_WATERMARK_LENGTH),
      },
      ['role'],
    ),
    response: answers({ 200: ok(SHARE, 'The share') }),
  }),
  unshare: route('sharing', 'Stop sharing with a person or a group (the owner, admins)', {
    params: params({ id: 'The document id', kind: oneOfThese(KINDS), principal: 'The user or group id' }),
    response: answers({ 204: NO_CONTENT }),
  }),
  createLink: route('sharing', 'Make a share link (the owner, admins)', {
    params: FILE_ID,
    body: jsonBody(linkFields),
    response: answers({ 201: ok(LINK, 'The new link') }),
  }),
  updateLink: route('sharing', 'Change or disable a share link (the owner, admins)', {
    params: params({ id: 'The document id', link: 'The link id' }),
    body: jsonBody({ ...linkFields, disabled: flag() }),
    response: answers({ 200: ok(LINK, 'The link') }),
  }),
  people: route('sharing', 'Who one can share with: active people and the groups', {
    response: answers({ 200: ok(PEOPLE, 'People and groups') }),
  }),
};

export const ADMIN = {
  users: route('admin', 'Everyone with an account (admins)', {
    response: answers({ 200: ok(listOf(ACCOUNT), 'The accounts') }),
  }),
  addUser: route('admin', 'Add a person (admins)', {
    body: jsonBody(
      {
        name: text('Sign-in name', { minLength: 1 }),
        displayName: text(),
        password: text('Without one, the person signs in through single sign-on or a proxy'),
        isAdmin: flag(),
      },
      ['name'],
    ),
    response: answers({ 201: ok(ACCOUNT, 'The new account') }),
  }),
  updateUser: route('admin', 'Make or unmake an admin, disable or enable an account (admins)', {
    params: params({ id: 'The user id' }),
    body: jsonBody({ isAdmin: flag(), disabled: flag('A disabled account cannot sign in; its sessions end') }),
    response: answers({ 200: ok(ACCOUNT, 'The account') }),
  }),
  groups: route('admin', 'The groups (admins)', { response: answers({ 200: ok(listOf(GROUP), 'The groups') }) }),
  addGroup: route('admin', 'Create a group (admins)', {
    body: jsonBody({ name: text(undefined, { minLength: 1 }) }, ['name']),
    response: answers({ 201: ok(GROUP, 'The new group') }),
  }),
  deleteGroup: route('admin', 'Delete a group (admins)', {
    params: params({ id: 'The group id' }),
    response: answers({ 204: NO_CONTENT }),
  }),
  addMember: route('admin', 'Add a person to a group (admins)', {
    params: params({ id: 'The group id', user: 'The user id' }),
    response: answers({ 204: NO_CONTENT }),
  }),
  removeMember: route('admin', 'Take a person out of a group (admins)', {
    params: params({ id: 'The group id', user: 'The user id' }),
    response: answers({ 204: NO_CONTENT }),
  }),
};

export const API_KEYS = {
  list: route('api-keys', 'The service API keys (admins)', {
    response: answers({ 200: ok(listOf(API_KEY), 'The keys') }),
  }),
  scopes: route('api-keys', 'What each scope allows (admins)', {
    response: answers({ 200: ok(listOf(object({ scope: oneOfThese(API_SCOPES), note: text() })), 'The scopes') }),
  }),
  create: route('api-keys', 'Make a key (admins); the key is in this answer only', {
    body: jsonBody(
      {
        name: text('What it is for', { minLength: 1 }),
        scopes: listOf(text(undefined, { enum: API_SCOPES, title: 'scope' }), 'At least one'),
        expiresAt: { type: ['string', 'null'], description: 'When it stops working (ISO 8601); null or absent: never' },
      },
      ['name', 'scopes'],
    ),
    response: answers({
      201: ok(
        object({ ...apiKeyFields, key: text('The key: send it as Authorization: Bearer …') }),
        'The new key, with its secret',
      ),
    }),
  }),
  revoke: route('api-keys', 'Revoke a key (admins): requests with it fail from now on', {
    params: params({ id: 'The key id' }),
    response: answers({ 200: ok(API_KEY, 'The revoked key') }),
  }),
};

export const TOKENS = {
  mint: route('tokens', "An access token and host-page URL for one of the integrator's own users", {
    description:
      'The user need not exist in Quire. The token names the key, so revoking the key ends it within a second.',
    security: [{ apiKey: [] }],
    params: FILE_ID,
    body: jsonBody(
      {
        user: jsonBody(
          {
            id: text("The user's stable id in the integrator's app", { minLength: 1, maxLength: 200 }),
            name: text('Shown to other editors', { minLength: 1, maxLength: 100 }),
            email: text(undefined, { minLength: 1, maxLength: 254 }),
          },
          ['id', 'name'],
        ),
        role: oneOfThese(SHARE_ROLES),
        secureView: secureViewInput(200),
        ttlSeconds: { type: 'integer', minimum: 60, maximum: 86400, description: 'How long the token lasts' },
      },
      ['user', 'role'],
    ),
    response: answers({
      201: ok(
        object({
          accessToken: text(),
          accessTokenTtl: whole('When the token expires, in milliseconds since 1970 (as WOPI has it)'),
          wopiSrc: text(),
          hostPageUrl: text('Open it in an iframe: the editor, for this user'),
          hostPageUrlExpiresAt: time(),
          userId: text('The user as Quire knows them'),
        }),
        'The token',
      ),
    }),
  }),
};

const WEBHOOK_ID = params({ id: 'The webhook id' });
const webhookInput = {
  url: text('Where deliveries are POSTed: http(s)'),
  events: orNull(
    listOf(text(undefined, { enum: WEBHOOK_TYPES, title: 'event type' }), 'null or absent: every event type'),
  ),
  description: { type: ['string', 'null'] },
} satisfies Record<string, JsonSchema>;

export const WEBHOOKS = {
  eventTypes: route('webhooks', 'The event types one may subscribe to', {
    response: answers({ 200: ok(listOf(object({ type: oneOfThese(WEBHOOK_TYPES), about: text() })), 'The types') }),
  }),
  list: route('webhooks', 'The webhooks', { response: answers({ 200: ok(listOf(WEBHOOK), 'The webhooks') }) }),
  create: route('webhooks', 'Register a receiver; its signing secret is in this answer only', {
    body: jsonBody(webhookInput, ['url']),
    response: answers({
      201: ok(object({ ...webhookFields, secret: text('Verifies the signature of each delivery') }), 'The webhook'),
    }),
  }),
  update: route('webhooks', 'Change the URL, the events or the description', {
    params: WEBHOOK_ID,
    body: jsonBody(webhookInput),
    response: answers({ 200: ok(WEBHOOK, 'The webhook') }),
  }),
  delete: route('webhooks', 'Remove a webhook', { params: WEBHOOK_ID, response: answers({ 204: NO_CONTENT }) }),
  ping: route('webhooks', 'Queue a webhook.ping delivery', {
    params: WEBHOOK_ID,
    response: answers({ 202: ok(DELIVERY, 'The queued delivery') }),
  }),
  deliveries: route('webhooks', 'The delivery log, newest first', {
    params: WEBHOOK_ID,
    querystring: query({
      limit: text('At most this many, up to 1000 (50 unless given)', {
        pattern: '^[0-9]{1,4}$',
        title: 'a number up to 1000',
      }),
      before: text('Older than this delivery id (paging back)'),
    }),
    response: answers({ 200: ok(listOf(DELIVERY), 'The deliveries') }),
  }),
  redeliver: route('webhooks', 'Send a delivery again (same id)', {
    params: params({ id: 'The webhook id', delivery: 'The delivery id' }),
    response: answers({ 202: ok(DELIVERY, 'The queued delivery') }),
  }),
};

export const OPENAPI_DOCUMENT = route('openapi', 'This OpenAPI document (no sign-in needed)', {
  security: [],
  response: {
    200: ok({ type: 'object', additionalProperties: true }, 'OpenAPI 3.1'),
  },
});
