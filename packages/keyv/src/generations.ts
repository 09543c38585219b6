/**
 * Keyv namespaces cleared in one round trip, without listing keys (memcached cannot list them).
 *
 * Every Keyv namespace has a generation: a random token kept in memcached under a record of its own. Entries
 * are stored in the client namespace `<namespace>:<token>`, so replacing the token (`clear()`) makes every
 * earlier entry of the namespace unreachable at once, for every process, while other namespaces keep theirs.
 * The old entries are left for memcached to evict.
 *
 * The token is cached in process, but never trusted alone: each operation reads the record in parallel with
 * its own work (in the same multi-get as its reads) and runs again under the new token when the record
 * changed. So a `clear()` from any process is seen by every operation that starts after it resolved, and the
 * steady state costs no extra round trip. Tokens are random and never reused, so a record that memcached
 * evicted or flushed is replaced by a new token: the namespace reads as empty, never as an older generation.
 */
import { randomBytes } from 'node:crypto';
import type { MemcachedClient, Namespace } from '@lovely-memcached/core';

const RECORD = '@lovely-memcached/keyv generation';

/** A tiny factory that finishes at once: a caller waits this long at most for another one's token. */
const CREATE_LOCK_TIMEOUT_MS = 1000;

/** One Keyv namespace inside the client's `defaultNS`: its record key, and the label of its client namespace. */
interface Scope {
  namespace: string | undefined;
  record: string;
  label: string;
}

export class Generations {
  /** The token of each Keyv namespace when last read. */
  private readonly known = new Map<string | undefined, string>();
  /** Scopes by Keyv namespace: a handful per process, built once (`undefined` is Keyv without a namespace). */
  private readonly scopes = new Map<string | undefined, Scope>();
  /** Record reads issued in the current microtask turn, shared by the operations that start in it. */
  private readonly turnReads = new Map<string | undefined, Promise<string | undefined>>();

  constructor(private readonly client: MemcachedClient) {}

  /**
   * Runs `operation` with the client namespace of the current generation of `namespace`, and again under the
   * newer one if a `clear()` replaced it meanwhile (the first run's writes then went to an unreachable place).
   */
  async run<R>(namespace: string | undefined, operation: (ns: string) => Promise<R>): Promise<R> {
    const scope = this.scope(namespace);
    const cached = this.known.get(scope.namespace);
    if (cached === undefined) return operation(clientNamespace(scope, await this.current(scope)));
    const [token, result] = await Promise.all([this.read(scope), operation(clientNamespace(scope, cached))]);
    if (token === cached) return result;
    const current = token ?? (await this.create(scope));
    this.known.set(scope.namespace, current);
    return operation(clientNamespace(scope, current));
  }

  /** Replaces the token of `namespace`: every entry written before is unreachable. False when not stored. */
  async replace(namespace: string | undefined): Promise<boolean> {
    const scope = this.scope(namespace);
    const token = newToken();
    const stored = await this.client.set(scope.record, token, { ns: null, lifetime: 0 });
    if (stored === null) return false;
    this.known.set(scope.namespace, token);
    return true;
  }

  private async current(scope: Scope): Promise<string> {
    const token = (await this.read(scope)) ?? (await this.create(scope));
    this.known.set(scope.namespace, token);
    return token;
  }

  /**
   * The record as memcached has it now. Operations started in the same turn share one read: it is issued
   * after each of them started and leaves with their own reads, so it still sees every `clear()` that resolved
   * before any of them began; 64 concurrent gets then make one record query, not 64.
   */
  private read(scope: Scope): Promise<string | undefined> {
    let read = this.turnReads.get(scope.namespace);
    if (read === undefined) {
      read = this.client
        .query(scope.record, { ns: null })
        .then((token) => (typeof token === 'string' ? token : undefined));
      if (this.turnReads.size === 0) queueMicrotask(() => this.turnReads.clear());
      this.turnReads.set(scope.namespace, read);
    }
    return read;
  }

  /**
   * A missing record gets a new token, once for every process (`getOrSet` holds a lease in memcached): two
   * processes creating their own would each write where the other cannot read. With the record's server
   * unreachable the token is not stored, and the namespace reads as empty until the server is back.
   */
  private async create(scope: Scope): Promise<string> {
    const token = await this.client.getOrSet(scope.record, () => newToken(), {
      ns: null,
      lifetime: 0,
      earlyRefresh: 0,
      lockTimeout: CREATE_LOCK_TIMEOUT_MS,
    });
    return typeof token === 'string' ? token : newToken();
  }

  private scope(namespace: string | undefined): Scope {
    let scope = this.scopes.get(namespace);
    if (scope === undefined) {
      const outer: Namespace = this.client.defaultNS;
      const parts = [outer, namespace].filter((part): part is string => typeof part === 'string');
      scope = {
        namespace,
        // A string key: hashed on every operation, and a string is the cheapest key to encode.
        record: `${RECORD} ${JSON.stringify([outer, namespace ?? null])}`,
        label: parts.join(':'),
      };
      this.scopes.set(namespace, scope);
    }
    return scope;
  }
}

/**
 * The token ends every client namespace and is random per record, so two scopes never share one, whatever
 * characters their names hold.
 */
function clientNamespace(scope: Scope, token: string): string {
  return scope.label === '' ? token : `${scope.label}:${token}`;
}

function newToken(): string {
  return randomBytes(8).toString('hex');
}
