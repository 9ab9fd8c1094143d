import { Writable } from 'node:stream';
import { send, type HttpResponse } from '../../src/http/client.js';
import { ManagementApi } from '../../src/target/management-api.js';
import {
  startReference,
  type ListenOptions,
  type RunningReference,
} from '../../reference/server.js';

export interface CallOptions {
  auth?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  localAddress?: string;
  ipv6?: boolean;
}

/** A reference server on a free loopback port, with helpers to call it and manage keys. */
export class ReferenceHarness {
  readonly logs: string[] = [];
  readonly responses: string[] = [];
  server!: RunningReference;
  api!: ManagementApi;

  async start(options: ListenOptions = {}): Promise<this> {
    const logs = this.logs;
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    this.server = await startReference({ logStream, logLevel: 'debug', ...options });
    this.api = new ManagementApi(this.server.url, this.server.managementToken);
    return this;
  }

  /** Calls the server; every response body is kept for leak checks. */
  async call(path: string, options: CallOptions = {}): Promise<HttpResponse & { json: any }> {
    const base = options.ipv6 ? this.server.ipv6Url! : this.server.url;
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth !== undefined) headers.authorization = options.auth;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await send({
      url: `${base}${path}`,
      method: options.method ?? 'GET',
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    this.responses.push(res.rawHeaders.map(([n, v]) => `${n}: ${v}`).join('\n'), res.body);
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      json = undefined;
    }
    return { ...res, json };
  }

  /** Calls the management API with the server's token. */
  manage(method: string, path: string, body?: unknown) {
    return this.call(path, {
      method,
      auth: `Bearer ${this.server.managementToken}`,
      ...(body !== undefined ? { body } : {}),
    });
  }

  async key(
    plan: string,
    extra: { allowedIps?: string[]; accountId?: string; name?: string } = {},
  ) {
    return this.api.create({
      name: extra.name ?? `test ${plan}`,
      plan,
      accountId: extra.accountId ?? 'tests',
      ...extra,
    });
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
