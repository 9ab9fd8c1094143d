import { connect, type Socket } from 'node:net';
import { Pool } from 'undici';

/** Sends one GET and resolves to its status, or 0 when no answer came. */
export type Send = (path: string, authorization: string | undefined) => Promise<number>;

/** What drives the load: one sender per connection, each with one request in flight. */
export interface LoadClient {
  senders: Send[];
  close(): Promise<void>;
}

export const CLIENTS = ['raw', 'undici'] as const;
export type ClientName = (typeof CLIENTS)[number];

/** How long a request may wait for its answer before it counts as unanswered. */
const TIMEOUT_MS = 10_000;

export function openClient(
  name: ClientName,
  baseUrl: string,
  connections: number,
  timeoutMs = TIMEOUT_MS,
): Promise<LoadClient> {
  return name === 'raw'
    ? rawClient(baseUrl, connections, timeoutMs)
    : undiciClient(baseUrl, connections, timeoutMs);
}

/** undici's Pool: what a Node application would use, and costlier per request than the server. */
async function undiciClient(
  baseUrl: string,
  connections: number,
  timeoutMs: number,
): Promise<LoadClient> {
  const pool = new Pool(baseUrl, {
    connections,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const send: Send = async (path, authorization) => {
    try {
      const res = await pool.request({
        path,
        method: 'GET',
        headers: authorization === undefined ? {} : { authorization },
      });
      await res.body.dump();
      return res.statusCode;
    } catch {
      return 0;
    }
  };
  return { senders: Array.from({ length: connections }, () => send), close: () => pool.destroy() };
}

/**
 * HTTP/1.1 over plain keep-alive sockets, with requests prepared as bytes and answers read
 * only as far as the status and Content-Length. It costs a fraction of what the server
 * spends on a request, so on a machine it shares with the server the server is what
 * limits the rate: the figures then describe the server, not the load generator.
 */
async function rawClient(
  baseUrl: string,
  connections: number,
  timeoutMs: number,
): Promise<LoadClient> {
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:')
    throw new Error(`the raw client speaks plain HTTP, not ${url.protocol}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 80);
  const open = await Promise.all(
    Array.from({ length: connections }, () => RawConnection.open(host, port, url.host, timeoutMs)),
  );
  return {
    senders: open.map((c) => (path, authorization) => c.send(path, authorization)),
    close: async () => {
      for (const c of open) c.close();
    },
  };
}

const HEAD_END = Buffer.from('\r\n\r\n');

class RawConnection {
  private buffered: Buffer | undefined;
  private waiting: ((status: number) => void) | undefined;
  private closed = false;
  private readonly requests = new Map<string, Buffer>();

  private constructor(
    private readonly socket: Socket,
    private readonly hostHeader: string,
    timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('close', () => this.fail());
    socket.on('error', () => this.fail());
    // Idle between bursts is fine; silence while an answer is awaited ends the connection.
    socket.setTimeout(timeoutMs, () => {
      if (this.waiting) this.fail();
    });
  }

  static open(
    host: string,
    port: number,
    hostHeader: string,
    timeoutMs: number,
  ): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket, hostHeader, timeoutMs));
      });
      socket.once('error', reject);
    });
  }

  send(path: string, authorization: string | undefined): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(this.request(path, authorization));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  /** The request's bytes, built once per path and header value. */
  private request(path: string, authorization: string | undefined): Buffer {
    const id = authorization === undefined ? path : `${path}\n${authorization}`;
    let bytes = this.requests.get(id);
    if (!bytes) {
      const auth = authorization === undefined ? '' : `authorization: ${authorization}\r\n`;
      bytes = Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n${auth}\r\n`);
      this.requests.set(id, bytes);
    }
    return bytes;
  }

  private read(chunk: Buffer): void {
    const data = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    const end = data.indexOf(HEAD_END);
    if (end < 0) {
      this.buffered = data;
      return;
    }
    const head = data.toString('latin1', 0, end);
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
    // The answers measured here always carry a length; anything else ends the connection.
    if (!length) return this.fail();
    const total = end + HEAD_END.length + Number(length[1]);
    if (data.length < total) {
      this.buffered = data;
      return;
    }
    this.buffered = data.length > total ? data.subarray(total) : undefined;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(Number(head.slice(9, 12)) || 0);
  }

  private fail(): void {
    this.closed = true;
    this.socket.destroy();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(0);
  }
}
