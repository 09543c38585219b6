import zlib from 'node:zlib';
import { CacheError, MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { expect, it } from 'vitest';
import { describeCompression } from './compression.shared';

describeCompression('the memory transport', async () => ({
  transport: memoryTransport(),
  servers: ['127.0.0.1:11211'],
  teardown: async () => {},
}));

it.each([
  [{ threshold: -1 }, 'compression.threshold'],
  [{ threshold: 1.5 }, 'compression.threshold'],
  [{ codec: 'lz4' }, 'compression.codec'],
  [
    { codec: { id: 3, compress: (b: Uint8Array) => b, decompress: (b: Uint8Array) => b } },
    'compression.codec',
  ],
  ['fast', 'compression'],
])('refuses compression %o naming `%s`', (compression, name) => {
  let error: unknown;
  try {
    new MemcachedClient({ transport: memoryTransport(), compression: compression as never });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(CacheError);
  expect((error as CacheError).code).toBe('ERR_INVALID_OPTION');
  expect((error as Error).message).toContain(`\`${name}\``);
});

it('offers zstd where node:zlib has it, and names the version needed where it does not', async () => {
  const make = () =>
    new MemcachedClient({ transport: memoryTransport(), compression: { threshold: 10, codec: 'zstd' } });
  if (typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync !== 'function') {
    expect(make).toThrow(/22\.15/);
    return;
  }
  const client = make();
  await client.set('z', 'zstd '.repeat(100));
  expect(await client.query('z')).toBe('zstd '.repeat(100));
  await client.close();
});

it('refuses a different codec claiming the id of one in use, naming the id; takes the same functions again', () => {
  const reverse = (bytes: Uint8Array) => Buffer.from(bytes).reverse();
  const identity = (bytes: Uint8Array) => bytes;
  new MemcachedClient({
    transport: memoryTransport(),
    compression: { codec: { id: 79, compress: reverse, decompress: reverse } },
  });
  // A new object with the very same functions is the same codec.
  new MemcachedClient({
    transport: memoryTransport(),
    compression: { codec: { id: 79, compress: reverse, decompress: reverse } },
  });
  let error: unknown;
  try {
    new MemcachedClient({
      transport: memoryTransport(),
      compression: { codec: { id: 79, compress: identity, decompress: identity } },
    });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(CacheError);
  expect((error as CacheError).code).toBe('ERR_INVALID_OPTION');
  expect((error as Error).message).toContain('79');
  // Bound functions all print as native code: they are told apart by identity, never by their text.
  const bound = (f: (bytes: Uint8Array) => Uint8Array) => f.bind(undefined);
  new MemcachedClient({
    transport: memoryTransport(),
    compression: { codec: { id: 80, compress: bound(reverse), decompress: bound(reverse) } },
  });
  expect(
    () =>
      new MemcachedClient({
        transport: memoryTransport(),
        compression: { codec: { id: 80, compress: bound(identity), decompress: bound(identity) } },
      }),
  ).toThrow(/80/);
});
