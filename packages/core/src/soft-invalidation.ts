/**
 * Soft invalidation of a key ("expire, don't delete": bentocache's `expire`, FusionCache's `Expire()`, Fastly's
 * soft purge): the entry is rewritten as stale as of now, with a CAS against the item read, so `getOrSet`
 * serves it within its grace while one caller refreshes, and `query` misses. What cannot be rewritten (not our
 * format, gone, or changed twice under us) is deleted: never less than a hard invalidation.
 *
 * (Dependencies and namespaces are softly invalidated through their tokens: token-record.ts.)
 */
import { expiredEntry } from './entry-format';
import type { Transport } from './transport';

/**
 * How long memcached keeps a softly invalidated entry (its remaining lifetime is not known to the binary
 * protocol). Past its grace a stale entry reads as a miss anyway (read-through.ts); this only bounds memory.
 */
export const SOFT_KEEP_SECONDS = 3600;

export async function expireKey(transport: Transport, memcachedKey: string, nowMs: number): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const item = await transport.get(memcachedKey);
    if (item === undefined) return;
    const expired = expiredEntry(item, nowMs);
    if (expired === undefined || item.cas === undefined || transport.cas === undefined) break;
    const status = await transport.cas(memcachedKey, expired.bytes, item.cas, {
      flags: expired.flags,
      exptime: SOFT_KEEP_SECONDS,
    });
    if (status === 'stored' || status === 'not-found') return;
    if (status === 'unavailable') break;
  }
  await transport.delete(memcachedKey, { urgent: true });
}
