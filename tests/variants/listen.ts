import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server answering on 127.0.0.1 and, when the machine has it, on [::1] at the same port. */
export interface Listening {
  url: string;
  ipv6Url?: string;
  close(): Promise<void>;
}

/** Listens with `handler` on 127.0.0.1 port 0, then on [::1] at the port it got. */
export async function listenPair(handler: RequestListener): Promise<Listening> {
  const primary = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    primary.once('error', reject);
    primary.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const { port } = primary.address() as AddressInfo;
  const twin = await listenTwin(handler, port);
  return {
    url: `http://127.0.0.1:${port}`,
    ...(twin ? { ipv6Url: `http://[::1]:${port}` } : {}),
    close: async () => {
      await Promise.all([primary, ...(twin ? [twin] : [])].map(stop));
    },
  };
}

/** A listener on [::1] at `port`; undefined when the machine has no IPv6 loopback. */
export function listenTwin(handler: RequestListener, port: number): Promise<Server | undefined> {
  const server = createServer(handler);
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen({ host: '::1', port, ipv6Only: true }, () => resolve(server));
  });
}

/** Stops listening and drops every connection, idle or not. */
export function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
