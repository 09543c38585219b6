/**
 * Compression: for JSON and HTML values of 1 KB, 16 KB, 256 KB and 900 KB, the bytes memcached holds and the
 * median set / query latency with compression off and with each codec, in one run against a memcached it starts.
 * The defaults (threshold, codec) in core come from this table.
 *
 *   pnpm --filter @lovely-memcached/bench compression
 */
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { type CodecName, MemcachedClient } from '@lovely-memcached/core';
import { startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';

function json(bytes: number): unknown[] {
  const rows: unknown[] = [];
  let length = 2;
  for (let i = 0; length < bytes; i++) {
    const row = {
      id: i,
      name: `user ${i}`,
      email: `user${i}@example.com`,
      tags: ['a', `t${i % 17}`],
      score: (i * 7919) % 1000,
    };
    length += JSON.stringify(row).length + 1;
    rows.push(row);
  }
  return rows;
}

function html(bytes: number): string {
  let page = '<!doctype html><html><body>';
  for (let i = 0; page.length < bytes; i++) {
    page += `<div class="card card-${i % 7}"><h2>Title ${i}</h2><p>Lorem ipsum dolor sit amet ${i}, sed do eiusmod.</p><a href="/item/${i}">more</a></div>\n`;
  }
  return page.slice(0, bytes);
}

const median = (values: number[]) =>
  values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

export interface CompressionRow {
  value: string;
  codec: string;
  storedBytes: number;
  setMs: number;
  queryMs: number;
}

export async function measureCompression(): Promise<CompressionRow[]> {
  const server = await startMemcached({ args: ['-t', '1', '-m', '512'] });
  const zstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
  const settings: Array<[string, CodecName | false]> = [
    ['off', false],
    ['deflate', 'deflate'],
    ['brotli', 'brotli'],
    ...(zstd ? [['zstd', 'zstd'] as [string, CodecName]] : []),
  ];
  const rows: CompressionRow[] = [];
  try {
    for (const [kind, make] of [
      ['JSON', json],
      ['HTML', html],
    ] as const) {
      for (const size of [1024, 16 * 1024, 256 * 1024, 900 * 1024]) {
        const value = make(size);
        for (const [codecName, codec] of settings) {
          const client = new MemcachedClient({
            transport: memjsTransport(),
            servers: server.servers,
            compression: codec === false ? false : { threshold: 0, codec },
          });
          const transport = memjsTransport()(server.servers);
          const runs = size > 100_000 ? 30 : 200;
          const sets: number[] = [];
          const queries: number[] = [];
          let key = '';
          for (let i = 0; i < runs; i++) {
            let started = performance.now();
            key = (await client.set(`c-${kind}-${size}-${codecName}`, value)) as string;
            sets.push(performance.now() - started);
            started = performance.now();
            await client.query(`c-${kind}-${size}-${codecName}`);
            queries.push(performance.now() - started);
          }
          const storedBytes = (await transport.get(key))?.value.length ?? Number.NaN;
          rows.push({
            value: `${kind} ${size >= 1024 * 1024 ? `${size / 1024 / 1024} MB` : `${size / 1024} KB`}`,
            codec: codecName,
            storedBytes,
            setMs: median(sets),
            queryMs: median(queries),
          });
          await Promise.all([client.close(), transport.close()]);
        }
      }
    }
  } finally {
    await server.stop();
  }
  return rows;
}

export function compressionTable(rows: readonly CompressionRow[]): string {
  const lines = [
    '| value | codec | bytes held | set (median) | query (median) |',
    '|---|---|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.value} | ${r.codec} | ${r.storedBytes.toLocaleString('en-US')} | ${r.setMs.toFixed(3)} ms | ${r.queryMs.toFixed(3)} ms |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(compressionTable(await measureCompression()));
  process.exit(0);
}
