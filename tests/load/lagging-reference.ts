import type { AddressInfo } from 'node:net';
import { buildReference } from '../../reference/app.js';
import type { KeyStore } from '../../reference/store.js';

/** A reference whose revocations take `lagMs` to bite, as behind a stale cache. */
export interface LaggingReference {
  url: string;
  managementToken: string;
  close(): Promise<void>;
}

/**
 * Starts the unmodified reference, then wraps its key store from outside: a key revoked
 * less than `lagMs` ago still looks active. Deliberately broken, for the load test to catch.
 */
export async function startLaggingReference(lagMs = 300): Promise<LaggingReference> {
  const { app, managementToken } = await buildReference();
  lagRevocations(app.cci.store, lagMs);
  await app.listen({ host: '127.0.0.1', port: 0, listenTextResolver: () => '' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, managementToken, close: () => app.close() };
}

function lagRevocations(store: KeyStore, lagMs: number): void {
  const find = store.findBySecret.bind(store);
  store.findBySecret = (secret) => {
    const key = find(secret);
    const fresh = key?.revokedAt != null && Date.now() - Date.parse(key.revokedAt) < lagMs;
    return fresh ? { ...key, revokedAt: null } : key;
  };
}
