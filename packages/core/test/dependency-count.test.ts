/**
 * Issue #16.4: the stamps header counts up to MAX_DEPENDENCIES (16 bits); beyond it `set` refuses before any
 * I/O. (255, 256 and 300 dependencies round-trip: review-defects.test.ts.)
 */
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import { encodeBody, encodeEntry, entryStamps, MAX_DEPENDENCIES, type TokenStamp } from '../src/entry-format';

const one = ['127.0.0.1:11211'];

describe('the dependency count (#16.4)', () => {
  it('a stamps header of the largest count encodes and reads back', () => {
    const stamps: TokenStamp[] = Array.from({ length: MAX_DEPENDENCIES }, (_, i) => [
      i.toString(16).padStart(32, '0'),
      `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
    ]);
    const entry = encodeEntry(encodeBody('body', true), stamps);
    const read = entryStamps({ value: entry.bytes, flags: entry.flags });
    expect(read).toHaveLength(MAX_DEPENDENCIES);
    expect(read?.[MAX_DEPENDENCIES - 1]).toEqual(stamps[MAX_DEPENDENCIES - 1]);
  });

  it('more dependencies than the header can count are refused before anything is written', async () => {
    const memory = memoryTransport({ maxItemSize: 64 * 1024 * 1024 });
    const client = new MemcachedClient({ transport: memory, servers: one, trackKeys: true });
    const dependencies = Array.from({ length: MAX_DEPENDENCIES + 1 }, (_, i) => i);
    await expect(client.set('k', 'v', { raw: true, dependencies })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining(String(MAX_DEPENDENCIES)),
    });
    expect(memory.store(one[0] as string).stats().curr_items).toBe('0');
  });
});
