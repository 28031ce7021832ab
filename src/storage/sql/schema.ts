import type { Dialect } from './database.ts';

/**
 * Quire's tables, written once: the column types come from the dialect (INTEGER/BIGINT, INTEGER/BOOLEAN). Tables
 * are created when missing, so a store opened on an older data dir keeps its data.
 */
export function schemaScript(d: Dialect): string {
  const t = (name: string) => d.table(name);
  // what a version and a rescued save both hold: the bytes, who sent them, and the editor's save flags
  const savedBody = `file_id          TEXT NOT NULL REFERENCES ${t('files')}(id),
  blob_key         TEXT NOT NULL,
  size             ${d.int8} NOT NULL,
  sha256           TEXT NOT NULL,
  created_at       ${d.int8} NOT NULL,
  author_id        TEXT NOT NULL,
  editors          TEXT,
  modified_by_user ${d.bool},
  autosave         ${d.bool},
  exit_save        ${d.bool},
  file_conversion  ${d.bool},
  source           TEXT NOT NULL`;
  return `
CREATE TABLE IF NOT EXISTS ${t('files')} (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  name_key    TEXT NOT NULL,
  owner_id    TEXT NOT NULL,
  created_at  ${d.int8} NOT NULL,
  version     INTEGER NOT NULL,
  deleted_at  ${d.int8}
);
CREATE UNIQUE INDEX IF NOT EXISTS files_live_name ON ${t('files')} (name_key) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS ${t('versions')} (
  version          INTEGER NOT NULL,
  ${savedBody},
  PRIMARY KEY (file_id, version)
);
CREATE TABLE IF NOT EXISTS ${t('locks')} (
  file_id     TEXT PRIMARY KEY REFERENCES ${t('files')}(id),
  value       TEXT NOT NULL,
  expires_at  ${d.int8} NOT NULL
);
-- bytes: PutUserInfo bodies may hold U+0000, which PostgreSQL text cannot
CREATE TABLE IF NOT EXISTS ${t('user_info')} (
  file_id  TEXT NOT NULL REFERENCES ${t('files')}(id),
  user_id  TEXT NOT NULL,
  info     ${d.bytes} NOT NULL,
  PRIMARY KEY (file_id, user_id)
);
CREATE TABLE IF NOT EXISTS ${t('rescued')} (
  id               ${d.serialKey},
  ${savedBody},
  reason           TEXT NOT NULL,
  lock_sent        TEXT
);
CREATE INDEX IF NOT EXISTS rescued_by_file ON ${t('rescued')} (file_id, id);
CREATE TABLE IF NOT EXISTS ${t('events')} (
  id              ${d.serialKey},
  at              ${d.int8} NOT NULL,
  type            TEXT NOT NULL,
  file_id         TEXT,
  user_id         TEXT,
  user_name       TEXT,
  address         TEXT,
  client          TEXT,
  correlation_id  TEXT,
  session_id      TEXT,
  details         TEXT
);
CREATE INDEX IF NOT EXISTS events_by_file ON ${t('events')} (file_id, id);
CREATE INDEX IF NOT EXISTS events_by_user ON ${t('events')} (user_id, id);
CREATE INDEX IF NOT EXISTS events_by_time ON ${t('events')} (at);
CREATE TABLE IF NOT EXISTS ${t('users')} (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  name_key       TEXT NOT NULL UNIQUE,
  display_name   TEXT NOT NULL,
  password_hash  TEXT,
  is_admin       ${d.bool} NOT NULL DEFAULT FALSE,
  created_at     ${d.int8} NOT NULL
);
`;
}
