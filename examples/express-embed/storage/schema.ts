import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite.ts';

/**
 * The example app's own tables for what Quire needs to know about its documents. Nothing here is Quire's schema:
 * it is the app's, in the app's database, and the adapter maps it to Quire's records (catalog.ts).
 *
 * `mirrored_name` / `mirrored_version` say which head `files/<name>` holds, so a crash between a commit and the
 * copy into the folder is found and finished on the next open (head-files.ts).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS documents (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  deleted_at INTEGER,
  mirrored_name TEXT,
  mirrored_version INTEGER
);
-- a name is held by one live document: the database refuses a second, whatever the code above it does
CREATE UNIQUE INDEX IF NOT EXISTS documents_live_name ON documents (name_key) WHERE deleted_at IS NULL;

CREATE TABLE IF NOT EXISTS versions (
  document_id TEXT NOT NULL REFERENCES documents (id),
  number INTEGER NOT NULL,
  blob_key TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  saved_at INTEGER NOT NULL,
  author_id TEXT NOT NULL,
  editors TEXT,
  modified_by_user INTEGER,
  autosave INTEGER,
  exit_save INTEGER,
  file_conversion INTEGER,
  source TEXT NOT NULL,
  PRIMARY KEY (document_id, number)
);

CREATE TABLE IF NOT EXISTS locks (
  document_id TEXT PRIMARY KEY REFERENCES documents (id),
  value TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  taken_at INTEGER NOT NULL,
  refreshed_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS rescued_saves (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  document_id TEXT NOT NULL REFERENCES documents (id),
  blob_key TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  saved_at INTEGER NOT NULL,
  author_id TEXT NOT NULL,
  editors TEXT,
  modified_by_user INTEGER,
  autosave INTEGER,
  exit_save INTEGER,
  file_conversion INTEGER,
  source TEXT NOT NULL,
  reason TEXT NOT NULL,
  lock_sent TEXT
);

CREATE TABLE IF NOT EXISTS editor_user_info (
  document_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  info BLOB NOT NULL,
  PRIMARY KEY (document_id, user_id)
);

-- AUTOINCREMENT: an id is never handed out twice, even after pruning, so a reader's cursor misses nothing
CREATE TABLE IF NOT EXISTS document_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  document_id TEXT,
  user_id TEXT,
  user_name TEXT,
  address TEXT,
  client TEXT,
  correlation_id TEXT,
  session_id TEXT,
  details TEXT
);
CREATE INDEX IF NOT EXISTS document_events_by_document ON document_events (document_id, id);

-- Quire's record of the app's people who opened its pages (identify names them; Quire keeps an id per person)
CREATE TABLE IF NOT EXISTS quire_people (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT,
  is_admin INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  disabled_at INTEGER
);
`;

/** Opens the app's database (WAL, durable commits, waiting for another process's writer) with the adapter's tables. */
export function openDatabase(path: string): Database.Database {
  const db = openSqlite(path);
  try {
    // exec, not pragma(): pragma() prepares a statement each call and drops it (see ../sqlite.ts)
    db.exec('PRAGMA journal_mode = WAL');
    // a commit is on disk when it returns: a save the editor was told about survives a power cut
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA busy_timeout = 10000');
    db.exec(SCHEMA);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
