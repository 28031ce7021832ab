/** Quire as a library: embed the WOPI host in your own Node app, with your own storage if you like. */
export { type Access, AccessPolicy, type AccessRules, type Subject } from './access/policy.ts';
export { ROLES, type Role } from './access/roles.ts';
export {
  ALL_PERMISSIONS,
  type Grant,
  type MintedToken,
  type Permissions,
  READ_ONLY,
  TokenService,
} from './auth/tokens.ts';
export { type Clock, ManualClock, systemClock } from './core/clock.ts';
export { QuireError } from './core/errors.ts';
export { FLAVOURS, type Flavour } from './discovery/flavour.ts';
export { importFile } from './documents/documents.ts';
export { createQuire, type EmbeddedQuire, type EmbedOptions } from './embed.ts';
export { buildHttpApp } from './http/app.ts';
export { Quire, type QuireOptions } from './quire.ts';
export { eventFieldText, MAX_EVENT_FIELD } from './storage/event-text.ts';
export { FsBlobStore } from './storage/fs-blobs.ts';
export { nameKey } from './storage/name-key.ts';
export { openPostgresStorage } from './storage/postgres/index.ts';
// the type only: the S3 store (and the AWS SDK) load when QuireOptions.s3 asks for them
export type { S3BlobOptions } from './storage/s3/index.ts';
export { openSqliteStorage } from './storage/sqlite/index.ts';
export { autosavesToThin, SESSION_GAP_MS } from './storage/thinning.ts';
export type * from './storage/types.ts';
export { FileNotFoundError, NameTakenError, UserExistsError } from './storage/types.ts';
export type { Identify } from './web/index.ts';
export type { WopiConfig, WopiHost, WopiOperation, WopiRequest, WopiResult } from './wopi/context.ts';
export { H as WopiHeaders } from './wopi/headers.ts';
export { operationFor } from './wopi/operations.ts';
