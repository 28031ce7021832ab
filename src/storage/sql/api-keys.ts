import type { ApiKey, ApiKeyRecord, ApiKeyStore, Describe } from '../types.ts';
import { type SqlDatabase, type SqlExecutor, storable } from './database.ts';
import type { SqlEventLog } from './events.ts';

type Int8 = number | string;

interface ApiKeyRow {
  id: string;
  name: string;
  secret_hash: string;
  scopes: string;
  created_at: Int8;
  created_by: string;
  expires_at: Int8 | null;
  revoked_at: Int8 | null;
  last_used_at: Int8 | null;
}

const optionalNumber = (v: Int8 | null) => (v === null ? null : Number(v));

const toRecord = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes === '' ? [] : r.scopes.split(' '),
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
  expiresAt: optionalNumber(r.expires_at),
  revokedAt: optionalNumber(r.revoked_at),
  lastUsedAt: optionalNumber(r.last_used_at),
  secretHash: r.secret_hash,
});

const withoutHash = ({ secretHash: _, ...key }: ApiKeyRecord): ApiKey => key;

/** Service API keys in the catalog's database, on either backend. */
export class SqlApiKeyStore implements ApiKeyStore {
  private readonly sql;

  constructor(
    private readonly db: SqlDatabase,
    private readonly events: SqlEventLog,
  ) {
    const keys = db.dialect.table('api_keys');
    this.sql = {
      insert: `INSERT INTO ${keys} (id, name, secret_hash, scopes, created_at, created_by, expires_at, revoked_at,
                 last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      byId: `SELECT * FROM ${keys} WHERE id = $1`,
      all: `SELECT * FROM ${keys} ORDER BY created_at DESC, id`,
      revoke: `UPDATE ${keys} SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`,
      // never moves back: two instances noting uses out of order keep the later one
      used: `UPDATE ${keys} SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`,
    };
  }

  private async record<R>(tx: SqlExecutor, describe: Describe<R> | undefined, result: R, at: number): Promise<R> {
    const event = describe?.(result);
    if (event) await this.events.insert(tx, event, at);
    return result;
  }

  async createKey(key: ApiKeyRecord, event?: Describe<ApiKey>): Promise<ApiKey> {
    if (key.scopes.some((s) => s === '' || /\s/.test(s))) throw new Error('a scope is one word');
    return this.db.transaction(async (tx) => {
      await tx.run(this.sql.insert, [
        key.id,
        key.name,
        key.secretHash,
        key.scopes.join(' '),
        key.createdAt,
        key.createdBy,
        key.expiresAt,
        key.revokedAt,
        key.lastUsedAt,
      ]);
      return this.record(tx, event, withoutHash(key), key.createdAt);
    });
  }

  async getKey(id: string): Promise<ApiKeyRecord | null> {
    if (!storable(id)) return null;
    const [row] = await this.db.all<ApiKeyRow>(this.sql.byId, [id]);
    return row ? toRecord(row) : null;
  }

  async listKeys(): Promise<ApiKey[]> {
    return (await this.db.all<ApiKeyRow>(this.sql.all)).map((r) => withoutHash(toRecord(r)));
  }

  async revokeKey(id: string, at: number, event?: Describe<ApiKey>): Promise<ApiKey | null> {
    if (!storable(id)) return null;
    return this.db.transaction(async (tx) => {
      const changed = await tx.run(this.sql.revoke, [id, at]);
      const [row] = await tx.all<ApiKeyRow>(this.sql.byId, [id]);
      if (!row) return null;
      const key = withoutHash(toRecord(row));
      return changed > 0 ? this.record(tx, event, key, at) : key;
    });
  }

  async markUsed(id: string, at: number): Promise<void> {
    if (storable(id)) await this.db.run(this.sql.used, [id, at]);
  }
}
