import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { type User, UserExistsError, type UserRecord, type UserStore } from '../../../src/index.ts';

interface PersonRow {
  id: string;
  name: string;
  display_name: string;
  password_hash: string | null;
  is_admin: number;
  created_at: number;
  disabled_at: number | null;
}

const toUser = (r: PersonRow): User => ({
  id: r.id,
  name: r.name,
  displayName: r.display_name,
  isAdmin: r.is_admin === 1,
  createdAt: r.created_at,
  ...(r.disabled_at !== null && { disabledAt: r.disabled_at }),
});

const toRecord = (r: PersonRow): UserRecord => ({ ...toUser(r), passwordHash: r.password_hash });

/**
 * Quire's record of the app's people. The app signs people in itself (accounts.ts) and tells Quire who is asking
 * through `identify`; Quire then keeps an id per person, made here on first sight, which its tokens, events and
 * document owners carry. Nobody signs in to Quire with a password here: password_hash stays null.
 */
export class PeopleStore implements UserStore {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      insert: db.prepare(
        `INSERT INTO quire_people (id, name, name_key, display_name, password_hash, is_admin, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      byKey: db.prepare('SELECT * FROM quire_people WHERE name_key = ?'),
      byId: db.prepare('SELECT * FROM quire_people WHERE id = ?'),
      all: db.prepare('SELECT * FROM quire_people ORDER BY name_key'),
      setHash: db.prepare('UPDATE quire_people SET password_hash = ? WHERE id = ?'),
      swapHash: db.prepare('UPDATE quire_people SET password_hash = ? WHERE id = ? AND password_hash = ?'),
      setDisabled: db.prepare('UPDATE quire_people SET disabled_at = ? WHERE id = ?'),
      setAdmin: db.prepare('UPDATE quire_people SET is_admin = ? WHERE id = ?'),
    };
  }

  async insert(user: Parameters<UserStore['insert']>[0]): Promise<User> {
    const id = randomBytes(16).toString('hex');
    try {
      this.q.insert.run(
        id,
        user.name,
        user.nameKey,
        user.displayName,
        user.passwordHash,
        user.isAdmin ? 1 : 0,
        user.createdAt,
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new UserExistsError(user.name);
      throw err;
    }
    return toUser(this.q.byId.get(id) as PersonRow);
  }

  async findByKey(nameKey: string): Promise<UserRecord | null> {
    const r = this.q.byKey.get(nameKey) as PersonRow | undefined;
    return r ? toRecord(r) : null;
  }

  async findById(id: string): Promise<UserRecord | null> {
    const r = this.q.byId.get(id) as PersonRow | undefined;
    return r ? toRecord(r) : null;
  }

  async setPasswordHash(id: string, hash: string, expected?: string): Promise<boolean> {
    const result = expected === undefined ? this.q.setHash.run(hash, id) : this.q.swapHash.run(hash, id, expected);
    return result.changes > 0;
  }

  async list(): Promise<User[]> {
    return (this.q.all.all() as PersonRow[]).map(toUser);
  }

  async setDisabled(id: string, at: number | null): Promise<boolean> {
    return this.q.setDisabled.run(at, id).changes > 0;
  }

  async setAdmin(id: string, isAdmin: boolean): Promise<boolean> {
    return this.q.setAdmin.run(isAdmin ? 1 : 0, id).changes > 0;
  }
}
