/**
 * Compression: values from the threshold up stored compressed and read back identical by every client (whatever
 * its own setting), a value over the item limit that compresses under it stored, corrupt and bomb entries read
 * as misses, raw values without dependencies left plain. Over the memory transport and a real memcached.
 */
import zlib, { deflateRawSync, inflateRawSync } from 'node:zlib';
import { type Codec, MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { describe, expect, it } from 'vitest';

const COMPRESSED_JSON_FLAGS = 0x4c4d_0401; // 'LM', kind JSON, compressed bit

function page(bytes: number): string {
  let html = '';
  for (let i = 0; html.length < bytes; i++)
    html += `<div class="row"><h2>Item ${i}</h2><p>Lorem ipsum ${i}</p></div>\n`;
  return html.slice(0, bytes);
}

export function describeCompression(
  name: string,
  setup: () => Promise<{ transport: TransportFactory; servers: string[]; teardown(): Promise<void> }>,
): void {
  describe(`compression over ${name}`, () => {
    const codecs = [
      'deflate',
      'brotli',
      ...(typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function'
        ? ['zstd' as const]
        : []),
    ] as const;

    it.each(codecs)(
      '%s: stored smaller from the threshold up, read back identical by every client',
      async (codec) => {
        const env = await setup();
        const writer = new MemcachedClient({
          transport: env.transport,
          servers: env.servers,
          compression: { threshold: 1024, codec },
        });
        const plainReader = new MemcachedClient({
          transport: env.transport,
          servers: env.servers,
          compression: false,
        });
        const transport = env.transport(env.servers);
        const big = {
          html: page(64 * 1024),
          list: Array.from({ length: 500 }, (_, i) => ({ i, name: `n${i}` })),
        };
        const key = (await writer.set('big', big)) as string;
        const stored = await transport.get(key);
        expect(stored?.value.length).toBeLessThan(JSON.stringify(big).length / 3);
        expect((stored?.flags ?? 0) & 0x400).toBe(0x400);
        expect(await plainReader.query('big')).toEqual(big);
        expect(await writer.query('big')).toEqual(big);
        // Below the threshold: as it was.
        const smallKey = (await writer.set('small', 'tiny')) as string;
        expect(((await transport.get(smallKey))?.flags ?? 0) & 0x400).toBe(0);
        await Promise.all([writer.close(), plainReader.close(), transport.close()]);
        await env.teardown();
      },
    );

    it('stores a value over the item limit that compresses under it; one that does not is refused', async () => {
      const env = await setup();
      const client = new MemcachedClient({ transport: env.transport, servers: env.servers });
      const html = page(3 * 1024 * 1024);
      expect(await client.set('huge-page', html)).not.toBeNull();
      expect(await client.query('huge-page')).toBe(html);
      const off = new MemcachedClient({ transport: env.transport, servers: env.servers, compression: false });
      await expect(off.set('huge-page', html)).rejects.toMatchObject({ code: 'ERR_VALUE_TOO_LARGE' });
      await Promise.all([client.close(), off.close()]);
      await env.teardown();
    });

    it('reads a corrupt or bomb entry as a miss, and an unknown codec too', async () => {
      const env = await setup();
      const client = new MemcachedClient({ transport: env.transport, servers: env.servers });
      const transport = env.transport(env.servers);
      const key = (await client.set('victim', page(32 * 1024))) as string;
      const write = (bytes: Uint8Array) => transport.set(key, bytes, { flags: COMPRESSED_JSON_FLAGS });
      await write(Buffer.from([1, 0xde, 0xad, 0xbe, 0xef]));
      expect(await client.query('victim')).toBeUndefined();
      // 80 MiB of zeros deflate to about 80 KB: past the documented bound, so never inflated in full.
      const bomb = deflateRawSync(Buffer.alloc(80 * 1024 * 1024));
      await write(Buffer.concat([Buffer.from([1]), bomb]));
      expect(await client.query('victim')).toBeUndefined();
      await write(Buffer.concat([Buffer.from([200]), deflateRawSync(Buffer.from('"x"'))]));
      expect(await client.query('victim')).toBeUndefined();
      await Promise.all([client.close(), transport.close()]);
      await env.teardown();
    });

    it('leaves raw values without dependencies plain for other clients; compresses raw with dependencies', async () => {
      const env = await setup();
      const client = new MemcachedClient({
        transport: env.transport,
        servers: env.servers,
        compression: { threshold: 100 },
      });
      const transport = env.transport(env.servers);
      const text = page(8 * 1024);
      await client.set('plain', text, { raw: true });
      expect((await transport.get('plain'))?.flags).toBe(0);
      expect(Buffer.from((await transport.get('plain'))?.value ?? []).toString()).toBe(text);
      await client.set('tied', text, { raw: true, dependencies: ['d'] });
      expect(((await transport.get('tied'))?.flags ?? 0) & 0x400).toBe(0x400);
      expect(await client.query('tied', { raw: true })).toBe(text);
      await Promise.all([client.close(), transport.close()]);
      await env.teardown();
    });

    it('takes a custom codec (an unknown codec id reads as a miss: see above)', async () => {
      const env = await setup();
      const reversing: Codec = {
        id: 77,
        compress: (bytes) => deflateRawSync(Buffer.from(bytes).reverse()),
        decompress: (bytes) => Buffer.from(inflateRawSync(bytes)).reverse(),
      };
      const client = new MemcachedClient({
        transport: env.transport,
        servers: env.servers,
        compression: { threshold: 10, codec: reversing },
      });
      const value = { text: page(4096) };
      await client.set('custom', value);
      expect(await client.query('custom')).toEqual(value);
      await client.close();
      await env.teardown();
    });

    it('takes an equal custom codec made again for a second client, each reading what the other wrote', async () => {
      const env = await setup();
      // A codec factory called once per client: the same id and functions, a new object (and closures) each time.
      const gzip = (): Codec => ({
        id: 78,
        compress: (bytes) => zlib.gzipSync(bytes),
        decompress: (bytes, maxLength) => zlib.gunzipSync(bytes, { maxOutputLength: maxLength }),
      });
      const a = new MemcachedClient({
        transport: env.transport,
        servers: env.servers,
        compression: { threshold: 0, codec: gzip() },
      });
      const b = new MemcachedClient({
        transport: env.transport,
        servers: env.servers,
        compression: { threshold: 0, codec: gzip() },
      });
      const value = { text: page(4096) };
      await a.set('from-a', value);
      await b.set('from-b', value);
      expect(await b.query('from-a')).toEqual(value);
      expect(await a.query('from-b')).toEqual(value);
      await Promise.all([a.close(), b.close()]);
      await env.teardown();
    });
  });
}
