import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { InvalidFieldsError, newId, NotFoundError, type ApiKeyView, type Role } from '@conveyor/contracts';
import { execOrThrow, type RedisKeys } from '@conveyor/redis';

/** An API key's SHA-256, the only form in which a key is kept or compared. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** 32 random bytes: long enough that a key cannot be guessed, so a fast hash is all it needs. */
function newKey(): string {
  return `cvk_${randomBytes(32).toString('base64url')}`;
}

interface StoredKey extends ApiKeyView {
  hash: string;
}

/** Managed API keys in Redis: created by an admin, shown once, kept as hashes, revocable. */
export class ApiKeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async create(request: { tenant?: string; name: string; role: Role }): Promise<ApiKeyView & { key: string }> {
    if (request.role === 'admin' && request.tenant !== undefined) {
      throw new InvalidFieldsError([{ path: 'tenant', message: 'must be absent for an admin key, which acts for every tenant' }]);
    }
    const key = newKey();
    const view: ApiKeyView = { id: newId('apiKey'), tenant: request.tenant ?? null, name: request.name, role: request.role, createdAt: new Date().toISOString() };
    const stored: StoredKey = { ...view, hash: hashKey(key) };
    await execOrThrow(this.redis.multi().hset(this.keys.apiKeys(), view.id, JSON.stringify(stored)).hset(this.keys.apiKeyHashes(), stored.hash, view.id));
    return { ...view, key };
  }

  async list(): Promise<ApiKeyView[]> {
    const stored = Object.values(await this.redis.hgetall(this.keys.apiKeys())).map((json) => withoutHash(JSON.parse(json) as StoredKey));
    return stored.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Revokes a key: it stops working everywhere within a second (the cache's freshness). */
  async revoke(id: string): Promise<void> {
    const stored = await this.storedById(id);
    if (!stored) throw new NotFoundError(`API key ${id}`);
    await execOrThrow(this.redis.multi().hdel(this.keys.apiKeys(), id).hdel(this.keys.apiKeyHashes(), stored.hash));
  }

  async byId(id: string): Promise<ApiKeyView | null> {
    const stored = await this.storedById(id);
    return stored && withoutHash(stored);
  }

  async byHash(hash: string): Promise<ApiKeyView | null> {
    const id = await this.redis.hget(this.keys.apiKeyHashes(), hash);
    return id === null ? null : this.byId(id);
  }

  private async storedById(id: string): Promise<StoredKey | null> {
    const json = await this.redis.hget(this.keys.apiKeys(), id);
    return json === null ? null : (JSON.parse(json) as StoredKey);
  }
}

function withoutHash({ hash: _hash, ...view }: StoredKey): ApiKeyView {
  return view;
}
