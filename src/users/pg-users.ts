import { randomBytes } from 'node:crypto';
import type pg from 'pg';
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

const schemaSql = (s: string) => `
CREATE TABLE IF NOT EXISTS ${s}.users (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  name_key       TEXT NOT NULL UNIQUE,
  display_name   TEXT NOT NULL,
  password_hash  TEXT,
  is_admin       BOOLEAN NOT NULL DEFAULT FALSE,
  created_at     BIGINT NOT NULL
);
`;

interface UserRow {
  id: string;
  name: string;
  display_name: string;
  password_hash: string | null;
  is_admin: boolean;
  /** BIGINT arrives as a string. */
  created_at: string | number;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  name: r.name,
  displayName: r.display_name,
  isAdmin: r.is_admin,
  createdAt: Number(r.created_at),
});

// hex: URL-safe and never starts with "-"; 16 bytes so ids cannot be guessed
const newUserId = () => randomBytes(16).toString('hex');

const isUniqueViolation = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';

/** PostgreSQL text cannot hold U+0000 (asking for it is an error): such a key names nobody. */
const storable = (key: string) => !key.includes('\u0000');

/**
 * Users in PostgreSQL, beside the catalog's tables in the same schema; the same rules as the SQLite store.
 * Hashing runs before and outside any statement: it takes tens of milliseconds and must not hold a connection.
 */
export class PgUserStore implements UserStore {
  private readonly sql;

  /** `schema` is an already quoted identifier (see `schemaIdentifier`). Call `init()` before use. */
  constructor(
    private readonly pool: pg.Pool,
    schema: string,
    private readonly now: () => number,
    // Tests pass a cheaper one; production keeps the default.
    private readonly hasher: PasswordHasher = defaultPasswordHasher,
  ) {
    this.sql = {
      schema: schemaSql(schema),
      byKey: `SELECT * FROM ${schema}.users WHERE name_key = $1`,
      byId: `SELECT * FROM ${schema}.users WHERE id = $1`,
      // "C": byte order, as SQLite's BINARY collation sorts
      all: `SELECT * FROM ${schema}.users ORDER BY name_key COLLATE "C"`,
      insert: `INSERT INTO ${schema}.users (id, name, name_key, display_name, password_hash, is_admin, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      setHash: `UPDATE ${schema}.users SET password_hash = $1 WHERE id = $2`,
      // Compare-and-set: only if nobody changed the password meanwhile.
      rehash: `UPDATE ${schema}.users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`,
    };
  }

  /** Creates the table when missing; run it where concurrent creation is serialized (see `PgCatalog.init`). */
  async init(q: Pick<pg.Pool | pg.PoolClient, 'query'> = this.pool): Promise<this> {
    await q.query(this.sql.schema);
    // A failure here resurfaces, and is retried, at the first verification of an unknown name.
    this.hasher.prepareDummyHash().catch(() => {});
    return this;
  }

  private async byKey(name: string): Promise<UserRow | null> {
    const key = userNameKey(name);
    if (!storable(key)) return null;
    const { rows } = await this.pool.query<UserRow>(this.sql.byKey, [key]);
    return rows[0] ?? null;
  }

  async create(input: NewUser): Promise<User> {
    const name = checkUserName(input.name);
    const displayName = checkDisplayName(input.displayName ?? name);
    if (input.password !== undefined) checkPassword(input.password);
    // Refuse early so a taken name costs no hashing; the UNIQUE index settles races.
    if (await this.byKey(name)) throw new UserExistsError(name);
    const hash = input.password === undefined ? null : await this.hasher.hash(input.password);
    try {
      const { rows } = await this.pool.query<UserRow>(this.sql.insert, [
        newUserId(),
        name,
        userNameKey(name),
        displayName,
        hash,
        input.isAdmin === true,
        this.now(),
      ]);
      return toUser(rows[0] as UserRow);
    } catch (err) {
      if (isUniqueViolation(err)) throw new UserExistsError(name);
      throw err;
    }
  }

  async findByName(name: string): Promise<User | null> {
    const row = await this.byKey(name);
    return row ? toUser(row) : null;
  }

  async findById(id: string): Promise<User | null> {
    if (!storable(id)) return null;
    const { rows } = await this.pool.query<UserRow>(this.sql.byId, [id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async verifyPassword(name: string, password: string): Promise<User | null> {
    const row = await this.byKey(name);
    if (!row?.password_hash) return this.hasher.verifyAgainstNothing(password).then(() => null);
    const hash = row.password_hash;
    if (!(await this.hasher.verify(hash, password))) return null;
    if (this.hasher.needsRehash(hash)) {
      const fresh = await this.hasher.hash(password);
      await this.pool.query(this.sql.rehash, [fresh, row.id, hash]);
    }
    return toUser(row);
  }

  async setPassword(name: string, password: string): Promise<void> {
    checkPassword(password);
    const row = await this.byKey(name);
    if (!row) throw new UserNotFoundError(name);
    const hash = await this.hasher.hash(password);
    await this.pool.query(this.sql.setHash, [hash, row.id]);
  }

  async list(): Promise<User[]> {
    const { rows } = await this.pool.query<UserRow>(this.sql.all);
    return rows.map(toUser);
  }
}
