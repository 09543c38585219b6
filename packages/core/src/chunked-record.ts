/**
 * A bookkeeping record that never drops a line at memcached's item size limit: when a chunk is full and
 * compaction cannot shrink it, lines go to the next chunk (`key`, `key.1`, `key.2`, ...). Readers read the
 * chunks in batches until a batch ends with a missing one, so chunks are kept contiguous: a chunk past the
 * first is only created right after the one before it was found full, and a writer whose chunk is gone
 * (flushed, evicted, freed by an invalidation) starts again at the first.
 *
 * The chunks form a ring: after the last one a writer comes back to the first, whose old lines compaction
 * drops, so a record whose live lines keep moving on never runs out of chunks.
 *
 * Bound: MAX_CHUNKS chunks per record (64 × the item size limit, 64 MiB with memcached's default -I 1m) of live
 * lines; past that, appends report `full` and the caller's line is lost (documented in the core README).
 */
import { type AppendOutcome, appendOrCreate } from './append-record';
import type { ReadBatcher } from './read-batcher';
import type { Transport, TransportItem } from './transport';

export const MAX_CHUNKS = 64;
const READ_BATCH = 8;
/**
 * Full chunks one append compacts at most, past the one it started at: compacting reads the chunk and every
 * entry it lists, so a record at its bound must not cost every append a read of all of them. The next append
 * goes on from where this one stopped.
 */
const COMPACTIONS_PER_APPEND = 4;

export function chunkKey(base: string, chunk: number): string {
  return chunk === 0 ? base : `${base}.${chunk}`;
}

/**
 * Appends `line` to the first chunk, from `startChunk` on (round the ring), that takes it; `compact` is given a
 * full chunk's key to shrink it. Resolves the outcome and the chunk to start from next time.
 *
 * The chunk the writer was filling is compacted as soon as it is full; the other chunks are only tried, so a
 * writer new to a record finds its end without compacting every chunk on the way. Only when every chunk is
 * full are the others compacted, oldest first (those after the start, round the ring).
 */
export async function appendChunked(
  transport: Transport,
  base: string,
  line: Uint8Array,
  flags: number,
  startChunk: number,
  compact: (key: string) => Promise<void>,
): Promise<{ outcome: AppendOutcome; chunk: number }> {
  const tryChunk = (chunk: number) => appendOrCreate(transport, chunkKey(base, chunk), line, flags);
  const compactAndTry = async (chunk: number) => {
    await compact(chunkKey(base, chunk));
    return tryChunk(chunk);
  };
  let first = startChunk % MAX_CHUNKS;
  // The chunk this writer appended to last; should it be gone, it is not created again out of order.
  const resumed = first > 0 ? await appendToExisting(transport, chunkKey(base, first), line) : 'gone';
  let outcome: AppendOutcome;
  if (resumed === 'gone') {
    first = 0;
    outcome = await tryChunk(first);
  } else outcome = resumed;
  if (outcome === 'full') outcome = await compactAndTry(first);
  if (outcome !== 'full') return { outcome, chunk: first };
  for (let step = 1; step < MAX_CHUNKS; step++) {
    const chunk = (first + step) % MAX_CHUNKS;
    outcome = await tryChunk(chunk);
    if (outcome !== 'full') return { outcome, chunk };
  }
  for (let step = 1; step <= COMPACTIONS_PER_APPEND; step++) {
    const chunk = (first + step) % MAX_CHUNKS;
    outcome = await compactAndTry(chunk);
    if (outcome !== 'full') return { outcome, chunk };
  }
  return { outcome: 'full', chunk: (first + COMPACTIONS_PER_APPEND + 1) % MAX_CHUNKS };
}

/** Appends to a chunk this writer used before, never creating it again out of order. */
async function appendToExisting(
  transport: Transport,
  key: string,
  line: Uint8Array,
): Promise<'appended' | 'full' | 'gone' | 'unavailable'> {
  const status = await transport.append(key, line);
  if (status === 'stored') return 'appended';
  if (status === 'too-large') return 'full';
  if (status !== 'not-stored') return 'unavailable';
  // memcached answers an append past the item limit like one to a missing key. Bookkeeping records never expire
  // (exptime 0), so touching one with 0 changes nothing and tells whether it is still there.
  return (await transport.touch(key, 0)) ? 'full' : 'gone';
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
