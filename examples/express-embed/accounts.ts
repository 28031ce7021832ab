import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type Database from 'better-sqlite3';
import { openSqlite } from './sqlite.ts';

/**
 * The app's own people and sign-ins, in its own tables: what any web app already has before it meets Quire.
 * Passwords are hashed with scrypt (node:crypto); a sign-in is a random token in an HttpOnly cookie, kept on the
 * server only as its SHA-256, so signing out ends it.
 */

export interface AppUser {
  id: number;
  login: string;
  fullName: string;
  isAdmin: boolean;
}

export interface NewAppUser {
  login: string;
  fullName: string;
  password: string;
  isAdmin?: boolean;
}

export const SESSION_COOKIE = 'app_session';
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS app_users (
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL UNIQUE,
  full_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS app_sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES app_users (id),
  expires_at INTEGER NOT NULL
);`;

interface UserRow {
  id: number;
  login: string;
  full_name: string;
  password_hash: string;
  is_admin: number;
}

const toUser = (r: UserRow): AppUser => ({
  id: r.id,
  login: r.login,
  fullName: r.full_name,
  isAdmin: r.is_admin === 1,
});

function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, 32).toString('hex')}`;
}

function passwordMatches(password: string, stored: string): boolean {
  const [, salt, hash] = stored.split('$');
  if (!salt || !hash) return false;
  return timingSafeEqual(scryptSync(password, Buffer.from(salt, 'hex'), 32), Buffer.from(hash, 'hex'));
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/** The value of one cookie in a raw request's Cookie header. */
export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export class Accounts {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = openSqlite(path);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA busy_timeout = 10000');
    this.db.exec(SCHEMA);
  }

  /** Adds the people not there yet (by login); the demo's first start seeds its users this way. */
  ensure(users: readonly NewAppUser[]): void {
    const insert = this.db.prepare(
      'INSERT INTO app_users (login, full_name, password_hash, is_admin) VALUES (?, ?, ?, ?) ON CONFLICT (login) DO NOTHING',
    );
    for (const u of users) insert.run(u.login, u.fullName, hashPassword(u.password), u.isAdmin ? 1 : 0);
  }

  list(): AppUser[] {
    return (this.db.prepare('SELECT * FROM app_users ORDER BY login').all() as UserRow[]).map(toUser);
  }

  /** Checks a login and password; on success starts a sign-in and answers its cookie value. */
  signIn(login: string, password: string, now = Date.now()): { user: AppUser; token: string } | null {
    const row = this.db.prepare('SELECT * FROM app_users WHERE login = ?').get(login) as UserRow | undefined;
    // hash anyway when there is no such login, so the answer takes as long either way
    const ok = passwordMatches(password, row?.password_hash ?? hashPassword('no such user'));
    if (!row || !ok) return null;
    const token = randomBytes(32).toString('base64url');
    this.db.prepare('DELETE FROM app_sessions WHERE expires_at <= ?').run(now);
    this.db
      .prepare('INSERT INTO app_sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)')
      .run(digest(token), row.id, now + SESSION_TTL_MS);
    return { user: toUser(row), token };
  }

  /** Who the request's sign-in cookie belongs to, if it is live. */
  userOf(req: IncomingMessage, now = Date.now()): AppUser | null {
    const token = cookieOf(req, SESSION_COOKIE);
    if (!token) return null;
    const row = this.db
      .prepare(
        `SELECT u.* FROM app_sessions s JOIN app_users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.expires_at > ?`,
      )
      .get(digest(token), now) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  signOut(req: IncomingMessage): void {
    const token = cookieOf(req, SESSION_COOKIE);
    if (token) this.db.prepare('DELETE FROM app_sessions WHERE token_hash = ?').run(digest(token));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
