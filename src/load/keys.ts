import { randomBytes } from 'node:crypto';
import { ManagementApi, type CreatedKey } from '../target/management-api.js';

/** GET /v1/whoami: in every plan, and it touches the key lookup and nothing else. */
export const VALID_PATH = '/v1/whoami';
export const HEALTH_PATH = '/v1/health';
const PLAN = 'enterprise';

/** Keys a load run makes; every one still live is revoked by {@link LoadKeys.revokeAll}. */
export class LoadKeys {
  readonly api: ManagementApi;
  private readonly run = randomBytes(4).toString('hex');
  private readonly live = new Set<string>();

  constructor(baseUrl: string, managementToken: string) {
    this.api = new ManagementApi(baseUrl, managementToken);
  }

  async create(role: string): Promise<CreatedKey> {
    const key = await this.api.create({
      name: `cci-load ${this.run} ${role}`,
      plan: PLAN,
      accountId: `cci-load-${this.run}`,
    });
    this.live.add(key.id);
    return key;
  }

  async revoke(id: string): Promise<void> {
    await this.api.revoke(id);
    this.live.delete(id);
  }

  async revokeAll(): Promise<void> {
    await Promise.allSettled([...this.live].map((id) => this.revoke(id)));
  }
}
