import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { defaultPasswordHasher, type PasswordHasher } from './passwords.ts';
import {
  checkDisplayName,
  checkPassword,
  checkUserName,
  type NewUser,
  type User,
  UserExistsError,
  UserNotFoundError,
  type UserStore,
  userNameKey,
} from './store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  name_key       TEXT NOT NULL UNIQUE,
  display_name   TEXT NOT NULL,
  password_hash  TEXT,
  is_admin       INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL
);
`;

interface UserRow {
  id: string;
  name: string;
  display_name: string;
  password_hash: string | null;
  is_admin: number;
  created_at: number;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  name: r.name,
  displayName: r.display_name,
  isAdmin: r.is_admin === 1,
  createdAt: r.created_at,
});

// hex: URL-safe and never starts with "-"; 16 bytes so ids cannot be guessed
const newUserId = () => randomBytes(16).toString('hex');

const isUniqueViolation = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';

/**
 * Users in the embedded SQLite database, in their own table beside the catalog's. Hashing runs before and outside
 * any transaction: it takes tens of milliseconds and must not hold the database's write lock.
 */
export class SqliteUserStore implements UserStore {
  private readonly stmt;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
    // Tests pass a cheaper one; production keeps the default.
    private readonly hasher: PasswordHasher = defaultPasswordHasher,
  ) {
    db.exec(SCHEMA);
    this.stmt = {
      byKey: db.prepare<[string], UserRow>('SELECT * FROM users WHERE name_key = ?'),
      byId: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      all: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY name_key'),
      insert: db.prepare<[string, string, string, string, string | null, number, number]>(
        `INSERT INTO users (id, name, name_key, display_name, password_hash, is_admin, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      setHash: db.prepare<[string, string]>('UPDATE users SET password_hash = ? WHERE id = ?'),
    };
    // A failure here resurfaces, and is retried, at the first verification of an unknown name.
    hasher.prepareDummyHash().catch(() => {});
  }

  async create(input: NewUser): Promise<User> {
    const name = checkUserName(input.name);
    const displayName = checkDisplayName(input.displayName ?? name);
    if (input.password !== undefined) checkPassword(input.password);
    const key = userNameKey(name);
    // Refuse early so a taken name costs no hashing; the UNIQUE index settles races.
    if (this.stmt.byKey.get(key)) throw new UserExistsError(name);
    const hash = input.password === undefined ? null : await this.hasher.hash(input.password);
    const id = newUserId();
    try {
      this.stmt.insert.run(id, name, key, displayName, hash, input.isAdmin ? 1 : 0, this.now());
    } catch (err) {
      if (isUniqueViolation(err)) throw new UserExistsError(name);
      throw err;
    }
    return toUser(this.stmt.byId.get(id) as UserRow);
  }

  async findByName(name: string): Promise<User | null> {
    const row = this.stmt.byKey.get(userNameKey(name));
    return row ? toUser(row) : null;
  }

  async findById(id: string): Promise<User | null> {
    const row = this.stmt.byId.get(id);
    return row ? toUser(row) : null;
  }

  async verifyPassword(name: string, password: string): Promise<User | null> {
    const row = this.stmt.byKey.get(userNameKey(name));
    if (!row?.password_hash) return this.hasher.verifyAgainstNothing(password).then(() => null);
    const hash = row.password_hash;
    if (!(await this.hasher.verify(hash, password))) return null;
    if (this.hasher.needsRehash(hash)) {
      const fresh = await this.hasher.hash(password);
      // Only if nobody changed the password meanwhile.
      const current = this.stmt.byId.get(row.id);
      if (current?.password_hash === hash) this.stmt.setHash.run(fresh, row.id);
    }
    return toUser(row);
  }

  async setPassword(name: string, password: string): Promise<void> {
    checkPassword(password);
    const row = this.stmt.byKey.get(userNameKey(name));
    if (!row) throw new UserNotFoundError(name);
    const hash = await this.hasher.hash(password);
    this.stmt.setHash.run(hash, row.id);
  }

  async list(): Promise<User[]> {
    return this.stmt.all.all().map(toUser);
  }
}
