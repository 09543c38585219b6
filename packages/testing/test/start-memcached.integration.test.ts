import { createConnection } from 'node:net';
import { CacheError } from '@lovely-memcached/core';
import { describe, expect, it } from 'vitest';
import { startMemcached } from '../src';

function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(command));
    let reply = '';
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.endsWith('END\r\n')) {
        socket.destroy();
        resolve(reply);
      }
    });
    socket.on('error', reject);
  });
}

describe('startMemcached', () => {
  it('starts memcached on a free loopback port, with extra arguments, and stops it', async () => {
    const server = await startMemcached({ args: ['-m', '8'] });
    expect(server.port).not.toBe(11211);
    expect(server.servers).toEqual([`127.0.0.1:${server.port}`]);
    const stats = await ask(server.port, 'stats\r\n');
    expect(stats).toContain(`STAT limit_maxbytes ${8 * 1024 * 1024}`);
    await server.stop();
    await expect(ask(server.port, 'stats\r\n')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('starts several at once on different ports', async () => {
    const servers = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
    expect(new Set(servers.map((s) => s.port)).size).toBe(3);
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('names the install command when the binary is missing', async () => {
    const attempt = startMemcached({ binary: 'memcached-that-is-not-installed' });
    await expect(attempt).rejects.toBeInstanceOf(CacheError);
    await expect(startMemcached({ binary: 'memcached-that-is-not-installed' })).rejects.toThrow(
      /apt-get install -y memcached/,
    );
  });
});
