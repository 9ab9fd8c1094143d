import Database from 'better-sqlite3';
import { digestKey, digestKeyText, randomBase62, sameDigestText } from '../src/secrets/keys.js';

/** A key as stored: everything but the secret, which is kept only as its digest. */
export interface StoredKey {
  id: string;
  accountId: string;
  name: string;
  plan: string;
  last4: string;
  allowedIps: string[];
  createdAt: string;
  revokedAt: string | null;
}

interface Row {
  id: string;
  account_id: string;
  name: string;
  plan: string;
  digest: Buffer;
  last4: string;
  allowed_ips: string;
  created_at: string;
  revoked_at: string | null;
}

export interface NewKey {
  accountId: string;
  name: string;
  plan: string;
  allowedIps: string[];
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    plan        TEXT NOT NULL,
    digest      BLOB NOT NULL UNIQUE,
    last4       TEXT NOT NULL,
    allowed_ips TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
  );
  CREATE INDEX IF NOT EXISTS api_keys_account ON api_keys (account_id);
`;

/** API keys in SQLite: in memory by default, or in a file that survives restarts. */
export class KeyStore {
  private readonly db: Database.Database;
  private readonly all: Database.Statement<[], Row>;
  private readonly byId: Database.Statement<[string], Row>;
  private readonly insert: Database.Statement<Row>;
  private readonly revokeStmt: Database.Statement<[string, string]>;
  private readonly dataVersion: Database.Statement<[], number>;
  /**
   * Every key by its digest as text (see `digestKeyText`): the digests are what the table
   * holds anyway, never a secret. A lookup, for a known key or an unknown one, costs a
   * hash and a map read.
   */
  private index = new Map<string, { digest: string; key: StoredKey }>();
  private indexVersion = -1;
  private readonly shared: boolean;

  constructor(file = ':memory:') {
    this.db = new Database(file);
    this.shared = file !== ':memory:';
    if (this.shared) {
      // WAL lets several server processes read while one writes; FULL makes a revocation
      // reach the disk before the statement returns, so before the response is sent.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
    }
    this.db.exec(SCHEMA);
    this.all = this.db.prepare('SELECT * FROM api_keys');
    this.byId = this.db.prepare('SELECT * FROM api_keys WHERE id = ?');
    this.insert = this.db.prepare(
      `INSERT INTO api_keys VALUES
       (@id, @account_id, @name, @plan, @digest, @last4, @allowed_ips, @created_at, @revoked_at)`,
    );
    this.revokeStmt = this.db.prepare(
      'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?',
    );
    this.dataVersion = this.db.prepare<[], number>('PRAGMA data_version').pluck();
    this.reindex();
  }

  private reindex(): void {
    this.index = new Map(this.all.all().map((row) => indexEntry(row.digest, toStored(row))));
  }

  /**
   * Reloads the index when the file changed under another connection: data_version
   * moves with every commit of another process
   * (https://sqlite.org/pragma.html#pragma_data_version),
   * so a key created or revoked by any worker is seen on the very next lookup. This
   * connection's own writes reload it where they happen.
   */
  private freshen(): void {
    if (!this.shared) return;
    const version = this.dataVersion.get()!;
    if (version !== this.indexVersion) {
      this.reindex();
      this.indexVersion = version;
    }
  }

  /** Stores a new key and returns it with its secret, which is not kept. */
  create(input: NewKey, prefix: string, bodyLength: number): { key: string; stored: StoredKey } {
    const key = prefix + randomBase62(bodyLength);
    const row: Row = {
      id: `key_${randomBase62(16)}`,
      account_id: input.accountId,
      name: input.name,
      plan: input.plan,
      digest: digestKey(key),
      last4: key.slice(-4),
      allowed_ips: JSON.stringify(input.allowedIps),
      created_at: new Date().toISOString(),
      revoked_at: null,
    };
    this.insert.run(row);
    const stored = toStored(row);
    this.index.set(...indexEntry(row.digest, stored));
    return { key, stored };
  }

  /** The key whose secret is `key`, active or revoked; undefined when none is. */
  findBySecret(key: string): StoredKey | undefined {
    this.freshen();
    // Every key presented is hashed, known or not: no shortcut on any part of it (its last
    // four characters, say) whose timing would tell a stranger which keys exist. Lookups
    // are by digest, so their timing says nothing about the secret; the final comparison
    // is constant-time all the same.
    const digest = digestKeyText(key);
    const entry = this.index.get(digest);
    return entry && sameDigestText(entry.digest, digest) ? entry.key : undefined;
  }

  get(id: string): StoredKey | undefined {
    const row = this.byId.get(id);
    return row ? toStored(row) : undefined;
  }

  list(accountId?: string): StoredKey[] {
    const rows =
      accountId === undefined
        ? this.db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at, id').all()
        : this.db
            .prepare<[string], Row>(
              'SELECT * FROM api_keys WHERE account_id = ? ORDER BY created_at, id',
            )
            .all(accountId);
    return rows.map(toStored);
  }

  /** Marks the key revoked; false when no key has that id. Revoking twice keeps the first time. */
  revoke(id: string): boolean {
    const changed = this.revokeStmt.run(new Date().toISOString(), id).changes > 0;
    if (changed) this.reindex();
    return changed;
  }

  close(): void {
    this.db.close();
  }
}

function indexEntry(stored: Buffer, key: StoredKey): [string, { digest: string; key: StoredKey }] {
  const digest = stored.toString('latin1');
  return [digest, { digest, key }];
}

function toStored(row: Row): StoredKey {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    plan: row.plan,
    last4: row.last4,
    allowedIps: JSON.parse(row.allowed_ips) as string[],
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
