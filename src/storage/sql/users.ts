import { type User, UserExistsError, type UserRecord, type UserStore } from '../types.ts';
import { type SqlDatabase, storable } from './database.ts';
import { newUserId, toUser, toUserRecord, type UserRow } from './rows.ts';

/** Users in the same database as the catalog, on either backend. */
export class SqlUserStore implements UserStore {
  private readonly sql;

  constructor(private readonly db: SqlDatabase) {
    const users = db.dialect.table('users');
    this.sql = {
      byKey: `SELECT * FROM ${users} WHERE name_key = $1`,
      byId: `SELECT * FROM ${users} WHERE id = $1`,
      all: `SELECT * FROM ${users} ORDER BY name_key${db.dialect.byteOrder}`,
      insert: `INSERT INTO ${users} (id, name, name_key, display_name, password_hash, is_admin, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      setHash: `UPDATE ${users} SET password_hash = $1 WHERE id = $2`,
      setDisabled: `UPDATE ${users} SET disabled_at = $1 WHERE id = $2`,
      setAdmin: `UPDATE ${users} SET is_admin = $1 WHERE id = $2`,
      swapHash: `UPDATE ${users} SET password_hash = $1 WHERE id = $2 AND password_hash = $3`,
    };
  }

  async insert(user: Parameters<UserStore['insert']>[0]): Promise<User> {
    const id = newUserId();
    const row = [id, user.name, user.nameKey, user.displayName, user.passwordHash, user.isAdmin, user.createdAt];
    try {
      await this.db.run(this.sql.insert, row);
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new UserExistsError(user.name);
      throw err;
    }
    const { passwordHash: _, ...created } = (await this.findById(id)) as UserRecord;
    return created;
  }

  async findByKey(nameKey: string): Promise<UserRecord | null> {
    if (!storable(nameKey)) return null;
    const [row] = await this.db.all<UserRow>(this.sql.byKey, [nameKey]);
    return row ? toUserRecord(row) : null;
  }

  async findById(id: string): Promise<UserRecord | null> {
    if (!storable(id)) return null;
    const [row] = await this.db.all<UserRow>(this.sql.byId, [id]);
    return row ? toUserRecord(row) : null;
  }

  async setPasswordHash(id: string, hash: string, expected?: string): Promise<boolean> {
    const changed =
      expected === undefined
        ? await this.db.run(this.sql.setHash, [hash, id])
        : await this.db.run(this.sql.swapHash, [hash, id, expected]);
    return changed > 0;
  }

  async setDisabled(id: string, at: number | null): Promise<boolean> {
    if (!storable(id)) return false;
    return (await this.db.run(this.sql.setDisabled, [at, id])) > 0;
  }

  async setAdmin(id: string, isAdmin: boolean): Promise<boolean> {
    if (!storable(id)) return false;
    return (await this.db.run(this.sql.setAdmin, [isAdmin, id])) > 0;
  }

  async list(): Promise<User[]> {
    return (await this.db.all<UserRow>(this.sql.all)).map(toUser);
  }
}
