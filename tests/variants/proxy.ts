import {
  Agent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { isIPv6, type Socket } from 'node:net';
import { listenPair, type Listening } from './listen.js';

/** A header as it travels: its name, as spelled, and its value. */
export type RawHeader = [string, string];

export interface ProxyOptions {
  /**
   * The local address the proxy connects upstream from. By default the client's own: on
   * loopback the proxy is then invisible to allowlists, as if the client called directly.
   */
  from?: (client: string) => string;
  /** Rewrites the request's headers before they go upstream. */
  request?: (headers: RawHeader[], client: string) => RawHeader[];
  /** Rewrites the response's headers before they go back to the client. */
  response?: (headers: RawHeader[]) => RawHeader[];
  /**
   * Answers a request itself, as a gateway in front may, once its whole body is read; the
   * request goes upstream when it returns undefined.
   */
  answer?: (req: IncomingMessage, body: string) => ProxyAnswer | undefined;
}

export interface ProxyAnswer {
  status: number;
  body: string;
}

export interface Upstream {
  url: string;
  ipv6Url?: string;
}

/** Headers of one hop only (RFC 9110 §7.6.1): never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

const pairs = (raw: string[]): RawHeader[] =>
  Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i]!, raw[2 * i + 1]!]);

const endToEnd = (headers: RawHeader[]) =>
  headers.filter(([n]) => !HOP_BY_HOP.has(n.toLowerCase()));

/**
 * A small HTTP/1.1 proxy in front of `upstream`, on 127.0.0.1 and [::1] like the server
 * it fronts. Each client connection gets one upstream connection of its own, so that
 * keep-alive behaves end to end as it would without the proxy.
 */
export function startProxy(upstream: Upstream, options: ProxyOptions = {}): Promise<Listening> {
  const agents = new WeakMap<Socket, Agent>();
  const agentFor = (socket: Socket, localAddress: string) => {
    let agent = agents.get(socket);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress });
      agents.set(socket, agent);
      const opened = agent;
      socket.once('close', () => opened.destroy());
    }
    return agent;
  };

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    if (options.answer) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const own = options.answer!(req, body.toString('utf8'));
        if (!own) return pass(req, res, body);
        res.writeHead(own.status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(own.body),
        });
        res.end(own.body);
      });
      return;
    }
    pass(req, res);
  };

  const pass = (req: IncomingMessage, res: ServerResponse, buffered?: Buffer) => {
    const client = req.socket.remoteAddress ?? '127.0.0.1';
    const local = options.from?.(client) ?? client;
    const base = isIPv6(local) ? upstream.ipv6Url : upstream.url;
    if (!base) {
      res.writeHead(502).end();
      return;
    }
    const sent = endToEnd(pairs(req.rawHeaders));
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of options.request?.(sent, client) ?? sent) {
      const key = name.toLowerCase();
      const had = headers[key];
      const before = had === undefined ? [] : Array.isArray(had) ? had : [String(had)];
      headers[key] = had === undefined ? value : [...before, value];
    }
    const target = new URL(base);
    const call = httpRequest(
      {
        host: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent: agentFor(req.socket, local),
      },
      (upstreamRes) => {
        const back = endToEnd(pairs(upstreamRes.rawHeaders));
        const rewritten = options.response?.(back) ?? back;
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, rewritten.flat());
        upstreamRes.pipe(res);
      },
    );
    call.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    if (buffered) call.end(buffered);
    else req.pipe(call);
  };
  return listenPair(forward);
}
