/**
 * A bookkeeping record that never drops a line at memcached's item size limit: when a chunk is full and
 * compaction cannot shrink it, lines go to the next chunk (`key`, `key.1`, `key.2`, ...). Readers read the
 * chunks in batches until a batch ends with a missing one.
 *
 * Bound: MAX_CHUNKS chunks per record (64 × the item size limit, 64 MiB with memcached's default -I 1m); past
 * that, appends report `full` and the caller's line is lost (documented in the core README).
 */
import { type AppendOutcome, appendOrCreate } from './append-record';
import type { ReadBatcher } from './read-batcher';
import type { Transport, TransportItem } from './transport';

export const MAX_CHUNKS = 64;
const READ_BATCH = 8;

export function chunkKey(base: string, chunk: number): string {
  return chunk === 0 ? base : `${base}.${chunk}`;
}

/**
 * Appends `line` to the first chunk, from `startChunk` on, that takes it; `compact` is given a full chunk's
 * key to shrink it before moving on. Resolves the outcome and the chunk that took the line.
 */
export async function appendChunked(
  transport: Transport,
  base: string,
  line: Uint8Array,
  flags: number,
  startChunk: number,
  compact: (key: string) => Promise<void>,
): Promise<{ outcome: AppendOutcome; chunk: number }> {
  for (let chunk = startChunk; chunk < MAX_CHUNKS; chunk++) {
    const key = chunkKey(base, chunk);
    let outcome = await appendOrCreate(transport, key, line, flags);
    if (outcome === 'full') {
      await compact(key);
      outcome = await appendOrCreate(transport, key, line, flags);
    }
    if (outcome !== 'full') return { outcome, chunk };
  }
  return { outcome: 'full', chunk: MAX_CHUNKS - 1 };
}

/** Every chunk of a record that is present, with its key, in chunk order. */
export async function readChunks(
  reads: ReadBatcher,
  base: string,
): Promise<Array<{ key: string; item: TransportItem }>> {
  const chunks: Array<{ key: string; item: TransportItem }> = [];
  for (let first = 0; first < MAX_CHUNKS; first += READ_BATCH) {
    const keys = Array.from({ length: READ_BATCH }, (_, i) => chunkKey(base, first + i));
    const found = await reads.getMany(keys);
    for (const key of keys) {
      const item = found.get(key);
      if (item !== undefined) chunks.push({ key, item });
    }
    // Chunks are created in order: a batch whose last chunk is missing holds the end of the record.
    if (!found.has(keys[keys.length - 1] as string)) break;
  }
  return chunks;
}
