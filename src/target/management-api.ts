import { send, type HttpResponse } from '../http/client.js';
import { redactSecrets } from '../secrets/redact.js';

/** A key as the contract's management API returns it at creation. */
export interface CreatedKey {
  id: string;
  key: string;
  name: string;
  accountId: string;
}

export interface KeyListing {
  id: string;
  name: string;
  accountId: string;
  revokedAt: string | null;
  [field: string]: unknown;
}

export interface NewKeyRequest {
  name: string;
  plan: string;
  accountId: string;
  allowedIps?: string[];
}

/** The management API went wrong in a way the run cannot continue from. */
export class ManagementError extends Error {
  constructor(
    readonly operation: string,
    readonly response: Pick<HttpResponse, 'status' | 'body'> | undefined,
    detail: string,
  ) {
    super(`${operation}: ${redactSecrets(detail)}`);
    this.name = 'ManagementError';
  }
}

/** A client of the key-management operations the contract defines. */
export class ManagementApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** Sends a management request as is; for checks that expect refusals. */
  raw(method: string, path: string, body?: string): Promise<HttpResponse> {
    return send({
      url: new URL(path, this.baseUrl).toString(),
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
  }

  /** The status with which the target refuses this token (401 or 403); undefined if it takes it. */
  async tokenRefusal(): Promise<number | undefined> {
    const { status } = await this.raw('GET', '/v1/keys');
    return status === 401 || status === 403 ? status : undefined;
  }

  async create(input: NewKeyRequest): Promise<CreatedKey> {
    const res = await this.raw('POST', '/v1/keys', JSON.stringify(input));
    const body = parse(res);
    if (res.status !== 201 || typeof body?.key !== 'string' || typeof body.id !== 'string') {
      throw new ManagementError(
        'create key',
        res,
        `expected 201 with id and key, got ${res.status} ${res.body.slice(0, 300)}`,
      );
    }
    return {
      id: body.id,
      key: body.key,
      name: String(body.name),
      accountId: String(body.accountId),
    };
  }

  /** Revokes a key; the answer is returned for checks of what it shows. */
  async revoke(id: string): Promise<HttpResponse> {
    const res = await this.raw('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
    if (res.status !== 204 && res.status !== 200) {
      throw new ManagementError(
        'revoke key',
        res,
        `expected 204, got ${res.status} ${res.body.slice(0, 300)}`,
      );
    }
    return res;
  }

  async list(accountId?: string): Promise<{ res: HttpResponse; keys: KeyListing[] }> {
    const query = accountId ? `?accountId=${encodeURIComponent(accountId)}` : '';
    const res = await this.raw('GET', `/v1/keys${query}`);
    const body = parse(res);
    if (res.status !== 200 || !Array.isArray(body?.keys)) {
      throw new ManagementError(
        'list keys',
        res,
        `expected 200 with keys, got ${res.status} ${res.body.slice(0, 300)}`,
      );
    }
    return { res, keys: body.keys as KeyListing[] };
  }
}

function parse(res: HttpResponse): Record<string, unknown> | undefined {
  try {
    return JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
