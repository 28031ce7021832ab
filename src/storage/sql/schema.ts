import type { Dialect, SqlExecutor } from './database.ts';

/**
 * Quire's tables, written once: the column types come from the dialect (INTEGER/BIGINT, INTEGER/BOOLEAN).
 *
 * The schema has a number. `baseSchema` is number 1, created when missing (so a data dir made before numbering began
 * keeps its data and counts as 1); each entry of `MIGRATIONS` takes the schema one number further and runs once, in
 * the same transaction that records the new number. A fresh database and an old one take the same path. Never edit
 * a migration that has shipped: add the next one.
 */
function baseSchema(d: Dialect): string {
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

/** Schema 1 → 2, 2 → 3, …: each returns its statements. Appended to, never edited. */
const MIGRATIONS: ReadonlyArray<(d: Dialect) => string[]> = [
  // 2: what the lock console shows and the idle release reads: when the lock was taken, when last set or refreshed
  (d) => [
    `ALTER TABLE ${d.table('locks')} ADD COLUMN taken_at ${d.int8}`,
    `ALTER TABLE ${d.table('locks')} ADD COLUMN refreshed_at ${d.int8}`,
  ],
  // 3: teams: groups, shares with users and groups, links and their guests, sign-ins that can be ended, and
  // users that can be disabled
  (d) => {
    const t = (name: string) => d.table(name);
    return [
      `CREATE TABLE ${t('groups')} (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        name_key    TEXT NOT NULL UNIQUE,
        source      TEXT NOT NULL,
        created_at  ${d.int8} NOT NULL
      )`,
      `CREATE TABLE ${t('group_members')} (
        group_id  TEXT NOT NULL REFERENCES ${t('groups')}(id),
        user_id   TEXT NOT NULL,
        PRIMARY KEY (group_id, user_id)
      )`,
      `CREATE INDEX group_members_by_user ON ${t('group_members')} (user_id)`,
      `CREATE TABLE ${t('shares')} (
        file_id      TEXT NOT NULL REFERENCES ${t('files')}(id),
        principal    TEXT NOT NULL,
        role         TEXT NOT NULL,
        secure_view  TEXT,
        created_at   ${d.int8} NOT NULL,
        created_by   TEXT NOT NULL,
        PRIMARY KEY (file_id, principal)
      )`,
      `CREATE INDEX shares_by_principal ON ${t('shares')} (principal)`,
      `CREATE TABLE ${t('links')} (
        id             TEXT PRIMARY KEY,
        file_id        TEXT NOT NULL REFERENCES ${t('files')}(id),
        role           TEXT NOT NULL,
        secure_view    TEXT,
        password_hash  TEXT,
        expires_at     ${d.int8},
        disabled_at    ${d.int8},
        created_at     ${d.int8} NOT NULL,
        created_by     TEXT NOT NULL
      )`,
      `CREATE INDEX links_by_file ON ${t('links')} (file_id)`,
      `CREATE TABLE ${t('link_guests')} (
        id          TEXT PRIMARY KEY,
        link_id     TEXT NOT NULL REFERENCES ${t('links')}(id),
        name        TEXT NOT NULL,
        name_key    TEXT NOT NULL,
        created_at  ${d.int8} NOT NULL,
        UNIQUE (link_id, name_key)
      )`,
      `CREATE TABLE ${t('sign_ins')} (
        id          TEXT PRIMARY KEY,
        user_id     TEXT NOT NULL,
        created_at  ${d.int8} NOT NULL,
        expires_at  ${d.int8} NOT NULL,
        ended_at    ${d.int8}
      )`,
      `CREATE INDEX sign_ins_by_user ON ${t('sign_ins')} (user_id)`,
      `ALTER TABLE ${t('users')} ADD COLUMN disabled_at ${d.int8}`,
    ];
  },
  // 4: service API keys: only the SHA-256 of each key's secret is kept; scopes space-separated; last use coarse
  (d) => [
    `CREATE TABLE ${d.table('api_keys')} (
      id            TEXT PRIMARY KEY,
      name          TEXT NOT NULL,
      secret_hash   TEXT NOT NULL,
      scopes        TEXT NOT NULL,
      created_at    ${d.int8} NOT NULL,
      created_by    TEXT NOT NULL,
      expires_at    ${d.int8},
      revoked_at    ${d.int8},
      last_used_at  ${d.int8}
    )`,
  ],
  // 5: webhooks (the secret kept as is: Quire signs with it) and their outbox: one delivery per event per matching
  // webhook, written in the event's transaction; `kinds` is what the outbox write matches (',kind,kind,')
  (d) => {
    const t = (name: string) => d.table(name);
    return [
      `CREATE TABLE ${t('webhooks')} (
        id           TEXT PRIMARY KEY,
        url          TEXT NOT NULL,
        events       TEXT,
        kinds        TEXT NOT NULL,
        description  TEXT NOT NULL,
        secret       TEXT NOT NULL,
        created_at   ${d.int8} NOT NULL,
        created_by   TEXT NOT NULL
      )`,
      `CREATE TABLE ${t('webhook_deliveries')} (
        id               TEXT PRIMARY KEY,
        webhook_id       TEXT NOT NULL REFERENCES ${t('webhooks')}(id),
        event_id         ${d.int8},
        kind             TEXT NOT NULL,
        created_at       ${d.int8} NOT NULL,
        queued_at        ${d.int8} NOT NULL,
        state            TEXT NOT NULL,
        attempts         INTEGER NOT NULL,
        next_attempt_at  ${d.int8},
        last_attempt_at  ${d.int8},
        last_status      INTEGER,
        last_error       TEXT,
        finished_at      ${d.int8}
      )`,
      `CREATE INDEX webhook_deliveries_due ON ${t('webhook_deliveries')} (state, next_attempt_at)`,
      `CREATE INDEX webhook_deliveries_by_webhook ON ${t('webhook_deliveries')} (webhook_id, created_at)`,
    ];
  },
];

/** Schema 1 as it shipped: tests build an old database from it to check the way up. */
export const schemaOne = (d: Dialect): string[] => statements(baseSchema(d));

/** The schema number this Quire writes. */
export const SCHEMA_VERSION = MIGRATIONS.length + 1;

/** Our own scripts hold no `;` except between statements. */
const statements = (script: string) =>
  script
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s.replace(/^--.*$/gm, '').trim() !== '');

/**
 * Brings the database to `SCHEMA_VERSION` inside `tx` (a transaction the caller serializes against other instances
 * starting at once). Refuses a database a newer Quire has written: running on it could lose what it keeps.
 * Resolves to the numbers before and after.
 */
export async function migrate(tx: SqlExecutor, d: Dialect): Promise<{ from: number; to: number }> {
  const table = d.table('schema_version');
  await tx.run(`CREATE TABLE IF NOT EXISTS ${table} (version INTEGER NOT NULL)`);
  const [row] = await tx.all<{ version: number }>(`SELECT version FROM ${table}`);
  // unnumbered: a new database, or one from before numbering (its tables are kept, any it lacks are added)
  if (!row) for (const statement of schemaOne(d)) await tx.run(statement);
  const from = row ? Number(row.version) : 1;
  if (from > SCHEMA_VERSION)
    throw new Error(
      `this catalog was written by a newer Quire (schema ${from}; this Quire knows up to ${SCHEMA_VERSION}): upgrade Quire, or restore a backup`,
    );
  for (let n = from; n < SCHEMA_VERSION; n++) {
    for (const statement of (MIGRATIONS[n - 1] as (d: Dialect) => string[])(d)) await tx.run(statement);
  }
  if (!row) await tx.run(`INSERT INTO ${table} (version) VALUES ($1)`, [SCHEMA_VERSION]);
  else if (from !== SCHEMA_VERSION) await tx.run(`UPDATE ${table} SET version = $1`, [SCHEMA_VERSION]);
  return { from, to: SCHEMA_VERSION };
}
