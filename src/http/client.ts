import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** What came back, with the body decoded to text. */
export interface HttpResponse {
  status: number;
  /** The reason phrase of the status line, which a server may fill with anything. */
  statusMessage?: string;
  headers: IncomingHttpHeaders;
  /** Every header line as sent, in order: repeated headers stay separate. */
  rawHeaders: Array<[string, string]>;
  body: string;
  /** True when the request went over a connection that had carried an earlier one. */
  reusedConnection: boolean;
  /** The local address the connection left from. */
  localAddress?: string;
}

export interface HttpRequest {
  url: string;
  method: string;
  /**
   * Header values are sent byte for byte (latin1), so malformed credentials reach the
   * server; a list of values is sent as that many lines.
   */
  headers?: Record<string, string | string[]>;
  body?: string;
  /** The local address to connect from, for example 127.0.0.3. */
  localAddress?: string;
  /** A keep-alive connection to reuse; see {@link connection}. */
  agent?: Agent;
  timeoutMs?: number;
}

/** One keep-alive connection: an agent that holds a single socket open between requests. */
export function connection(secure: boolean, localAddress?: string): Agent {
  const options = { keepAlive: true, maxSockets: 1, ...(localAddress ? { localAddress } : {}) };
  return secure ? new HttpsAgent(options) : new Agent(options);
}

/** Sends one request and reads the whole answer. Rejects only when no answer came. */
/** The `error.code` of a contract error body; undefined when the body has none. */
export function errorCode(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

export function send(req: HttpRequest): Promise<HttpResponse> {
  const url = new URL(req.url);
  const secure = url.protocol === 'https:';
  const headers: Record<string, string | string[]> = { ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));

  return new Promise((resolve, reject) => {
    const call = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method: req.method,
        headers,
        ...(req.agent ? { agent: req.agent } : { agent: false }),
        ...(req.localAddress && !req.agent ? { localAddress: req.localAddress } : {}),
        timeout: req.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const raw: Array<[string, string]> = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2)
            raw.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
          resolve({
            status: res.statusCode ?? 0,
            ...(res.statusMessage ? { statusMessage: res.statusMessage } : {}),
            headers: res.headers,
            rawHeaders: raw,
            body: decode(Buffer.concat(chunks), res.headers['content-encoding']),
            reusedConnection: call.reusedSocket,
            ...(res.socket?.localAddress ? { localAddress: res.socket.localAddress } : {}),
          });
        });
      },
    );
    call.on('timeout', () =>
      call.destroy(new Error(`no answer within ${req.timeoutMs ?? 10_000} ms`)),
    );
    call.on('error', reject);
    call.end(req.body);
  });
}

/** Undoes a Content-Encoding, so a server that compresses is read like one that does not. */
function decode(body: Buffer, encoding: string | undefined): string {
  try {
    switch (encoding?.trim().toLowerCase()) {
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(body).toString('utf8');
      case 'deflate':
        return inflateSync(body).toString('utf8');
      case 'br':
        return brotliDecompressSync(body).toString('utf8');
      default:
        return body.toString('utf8');
    }
  } catch {
    return body.toString('utf8');
  }
}
