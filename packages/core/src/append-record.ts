import type { Transport } from './transport';

/** How an append to a bookkeeping record went. */
export type AppendOutcome = 'appended' | 'created' | 'full' | 'unavailable';

/**
 * Appends a line to a bookkeeping record (a dependency's reverse index, a key-tracking record), creating the
 * record when absent; never a read-modify-write, so concurrent writers cannot lose each other's lines.
 *
 * memcached answers an APPEND that would overflow the item limit exactly like one to a missing key ("not
 * stored"); the `add` that follows tells them apart, and such a record is reported `full` so the caller can
 * compact it.
 */
export async function appendOrCreate(
  transport: Transport,
  key: string,
  line: Uint8Array,
  flags: number,
): Promise<AppendOutcome> {
  const status = await transport.append(key, line);
  if (status === 'stored') return 'appended';
  if (status !== 'not-stored') return status === 'too-large' ? 'full' : 'unavailable';
  const created = await transport.add(key, line, { flags });
  if (created === 'stored') return 'created';
  if (created !== 'exists') return created === 'too-large' ? 'full' : 'unavailable';
  const retried = await transport.append(key, line);
  if (retried === 'stored') return 'appended';
  return retried === 'not-stored' || retried === 'too-large' ? 'full' : 'unavailable';
}
