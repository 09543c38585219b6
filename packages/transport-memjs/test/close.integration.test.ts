import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startMemcached } from '@lovely-memcached/testing';
import { expect, it } from 'vitest';
import { itExitsAfterClose } from '../../../test/close.shared';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, '..', '..', '..', 'node_modules', '.bin', 'tsx');

itExitsAfterClose('memjs');

it('after urgent deletes brought a server back, close() leaves no probe socket: the process exits on its own', async () => {
  const port = await freePort();
  const child = spawn(
    tsx,
    [
      '--conditions=@lovely-memcached/source',
      join(here, 'support', 'exit-after-urgent-probes.ts'),
      `127.0.0.1:${port}`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let output = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const said = async (text: string) => {
    while (!output.includes(text)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const killer = setTimeout(() => child.kill(), 15_000);
  try {
    await said('down\n');
    const server = await startMemcached({ port });
    try {
      child.stdin.end('up\n');
      await said('closed\n');
      const closedAt = Date.now();
      const code = await exited;
      expect(output).toContain('["server-down","replayed","server-up"]');
      expect(code).toBe(0);
      // Exiting at all proves it (the server outlives the child); promptly shows nothing lingered.
      expect(Date.now() - closedAt).toBeLessThan(10_000);
    } finally {
      await server.stop();
    }
  } finally {
    clearTimeout(killer);
    child.kill();
  }
}, 30_000);
