/**
 * After close() the process exits on its own, for every network transport: a child process uses clients against
 * a live and a dead server, closes them and must exit without process.exit (no socket or timer left behind).
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMemcached } from '@lovely-memcached/testing';
import { expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');

export function itExitsAfterClose(transport: 'memjs' | 'meta'): void {
  it('after close() the process exits on its own: no socket or timer keeps it alive', async () => {
    const server = await startMemcached();
    const started = Date.now();
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        tsx,
        [
          '--conditions=@lovely-memcached/source',
          join(here, 'support', 'exit-after-close.ts'),
          transport,
          server.servers[0] as string,
        ],
        { timeout: 15_000 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
    });
    expect(output).toContain('closed');
    // Exiting at all proves it; promptly shows nothing lingered until a timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
    await server.stop();
  }, 20_000);
}
