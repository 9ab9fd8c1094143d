import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildReference } from '../../reference/app.js';
import { startReference } from '../../reference/server.js';
import { listenTwin, stop } from './listen.js';
import type { RunningVariant, Variant } from './model.js';
import { startProxy } from './proxy.js';

/** The trusted proxy every variant is started with, as the embedded run does. */
export const TRUSTED_PROXY = '127.0.0.9';

/**
 * Starts a variant on 127.0.0.1 (port 0) and [::1] at the same port: an unchanged
 * reference behind a proxy, or a reference built with `buildReference` and changed from
 * outside (hooks, a wrapped store, a wrapped request handler) before it listens.
 */
export async function startVariant(variant: Variant): Promise<RunningVariant> {
  if (variant.proxy) {
    const reference = await startReference({ trustedProxies: [TRUSTED_PROXY] });
    try {
      const proxy = await startProxy(reference, variant.proxy);
      return {
        ...proxy,
        managementToken: reference.managementToken,
        close: async () => {
          await proxy.close();
          await reference.close();
        },
      };
    } catch (error) {
      await reference.close();
      throw error;
    }
  }

  const { app, managementToken } = await buildReference({ trustedProxies: [TRUSTED_PROXY] });
  try {
    // Not `await variant.app?.(app)`: a Fastify instance is thenable, and awaiting it
    // would make the app ready.
    const changed = variant.app?.(app, { managementToken });
    if (changed instanceof Promise) await changed;
    await app.listen({ host: '127.0.0.1', port: 0, listenTextResolver: () => '' });
  } catch (error) {
    await app.close();
    throw error;
  }
  const server = app.server;
  const [routing] = server.listeners('request') as RequestListener[];
  let handler: RequestListener = routing!;
  if (variant.handler) {
    handler = variant.handler(routing!, app);
    server.removeAllListeners('request');
    server.on('request', handler);
  }
  const { port } = server.address() as AddressInfo;
  const twin = await listenTwin(handler, port);
  return {
    url: `http://127.0.0.1:${port}`,
    ...(twin ? { ipv6Url: `http://[::1]:${port}` } : {}),
    managementToken,
    close: async () => {
      if (twin) await stop(twin);
      server.closeAllConnections();
      await app.close();
    },
  };
}
