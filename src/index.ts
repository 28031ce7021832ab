/** Quire as a library: embed the WOPI host in your own Node app, with your own storage if you like. */
export {
  ALL_PERMISSIONS,
  type Grant,
  type MintedToken,
  type Permissions,
  READ_ONLY,
  TokenService,
} from './auth/tokens.ts';
export { type Clock, ManualClock, systemClock } from './clock.ts';
export { importFile } from './files.ts';
export { buildHttpApp } from './http/app.ts';
export { Quire, type QuireOptions } from './quire.ts';
export { FsBlobStore } from './storage/fs-blobs.ts';
export { openPostgresStorage } from './storage/postgres/index.ts';
export { openSqliteStorage } from './storage/sqlite/index.ts';
export type * from './storage/types.ts';
export { FileNotFoundError, NameTakenError } from './storage/types.ts';
export type { WopiConfig, WopiHost, WopiRequest, WopiResult } from './wopi/context.ts';
export { WopiError } from './wopi/errors.ts';
export { H as WopiHeaders } from './wopi/headers.ts';
export { operations } from './wopi/operations.ts';
