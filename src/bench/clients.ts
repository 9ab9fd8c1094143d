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
 * only as far as the status and Content-Length. Client and server take turns, so the rate
 * follows the sum of their costs per request: this client costs less than the server, and
 * the same on every path, so that differences between paths are the server's.
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
  const requests = new RequestBytes(url.host);
  const open = await Promise.all(
    Array.from({ length: connections }, () => RawConnection.open(host, port, requests, timeoutMs)),
  );
  return {
    senders: open.map((c) => (path, authorization) => c.send(path, authorization)),
    close: async () => {
      for (const c of open) c.close();
    },
  };
}

const HEAD_END = Buffer.from('\r\n\r\n');
const LENGTH_LINE = Buffer.from('\r\ncontent-length:');

/**
 * The Content-Length of the answer whose head ends at `end`, read from the bytes: no string
 * of the head is made, so reading a larger head (a refusal's challenge, say) costs this
 * client next to nothing more. Other spellings of the name are found the slow way.
 */
function contentLength(data: Buffer, end: number): number | undefined {
  let at = data.indexOf(LENGTH_LINE);
  if (at < 0 || at > end) {
    const line = /\r\ncontent-length:/i.exec(data.toString('latin1', 0, end));
    if (!line) return undefined;
    at = line.index;
  }
  let i = at + LENGTH_LINE.length;
  while (data[i] === 0x20 || data[i] === 0x09) i++;
  let value = 0;
  const first = i;
  for (; data[i]! >= 0x30 && data[i]! <= 0x39; i++) value = value * 10 + data[i]! - 0x30;
  return i > first ? value : undefined;
}

/** The status code of `HTTP/1.1 NNN …`; 0 when those bytes are not three digits. */
function statusOf(data: Buffer): number {
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = data[i]! - 0x30;
    if (!(digit >= 0 && digit <= 9)) return 0;
    status = status * 10 + digit;
  }
  return status;
}

/**
 * Request bytes, built once per path and header value and shared by every connection: one
 * small table stays in the cache where one per connection would not. Looked up without
 * joining path and value into a new string, so that a request with a key costs the client
 * no more than one without: the strings it is given are the same each time, and V8 keeps
 * their hashes.
 */
class RequestBytes {
  private readonly byPath = new Map<string, Map<string | undefined, Buffer>>();

  constructor(private readonly hostHeader: string) {}

  get(path: string, authorization: string | undefined): Buffer {
    let byAuthorization = this.byPath.get(path);
    if (!byAuthorization) this.byPath.set(path, (byAuthorization = new Map()));
    let bytes = byAuthorization.get(authorization);
    if (!bytes) {
      const auth = authorization === undefined ? '' : `authorization: ${authorization}\r\n`;
      bytes = Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n${auth}\r\n`);
      byAuthorization.set(authorization, bytes);
    }
    return bytes;
  }
}

class RawConnection {
  private buffered: Buffer | undefined;
  private waiting: ((status: number) => void) | undefined;
  private closed = false;
  private constructor(
    private readonly socket: Socket,
    private readonly requests: RequestBytes,
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
    requests: RequestBytes,
    timeoutMs: number,
  ): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket, requests, timeoutMs));
      });
      socket.once('error', reject);
    });
  }

  send(path: string, authorization: string | undefined): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(this.requests.get(path, authorization));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    const data = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    const end = data.indexOf(HEAD_END);
    if (end < 0) {
      this.buffered = data;
      return;
    }
    const length = contentLength(data, end);
    // The answers measured here always carry a length; anything else ends the connection.
    if (length === undefined) return this.fail();
    const total = end + HEAD_END.length + length;
    if (data.length < total) {
      this.buffered = data;
      return;
    }
    this.buffered = data.length > total ? data.subarray(total) : undefined;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(statusOf(data));
  }

  private fail(): void {
    this.closed = true;
    this.socket.destroy();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(0);
  }
}
