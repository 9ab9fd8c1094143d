import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildReference, type ReferenceOptions } from './app.js';

export interface RunningReference {
  /** The first listening URL, for example http://127.0.0.1:40123. */
  url: string;
  /** The same server on IPv6 loopback, when it listens on 127.0.0.1 and ::1 exists. */
  ipv6Url?: string;
  managementToken: string;
  close(): Promise<void>;
}

export interface ListenOptions extends ReferenceOptions {
  /** 127.0.0.1 by default; the server is also offered on [::1] at the same port. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

const urlOf = (a: AddressInfo) =>
  a.family === 'IPv6' ? `http://[${a.address}]:${a.port}` : `http://${a.address}:${a.port}`;

/** Builds the reference and starts listening; close() stops it and its store. */
export async function startReference(options: ListenOptions = {}): Promise<RunningReference> {
  const { app, managementToken } = await buildReference(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({
    host,
    port: options.port ?? 0,
    listenTextResolver: (address) => `listening on ${address}`,
  });
  const primary = app.server.address() as AddressInfo;

  // IPv6 allowlists are checked for real: the same app also answers on [::1].
  const twin =
    host === '127.0.0.1' ? await listenTwin(app.routing.bind(app), primary.port) : undefined;
  return {
    url: urlOf(primary),
    ...(twin ? { ipv6Url: urlOf(twin.address() as AddressInfo) } : {}),
    managementToken,
    close: async () => {
      if (twin) await new Promise((resolve) => twin.close(resolve));
      await app.close();
    },
  };
}

/** A second listener on [::1]; undefined when the machine has no IPv6 loopback. */
function listenTwin(handler: RequestListener, port: number): Promise<Server | undefined> {
  const server = createServer(handler);
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen({ host: '::1', port, ipv6Only: true }, () => resolve(server));
  });
}
