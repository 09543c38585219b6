/**
 * Starts a real `memcached` for a test: on a free loopback port (never 11211), waiting until it accepts
 * connections, and stopped with `stop()` (or when the test process exits).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { CacheError } from '@lovely-memcached/core';
import { acceptsConnections, freePort } from './ports';

export interface StartMemcachedOptions {
  /** Extra command-line arguments, e.g. `['-m', '8']` for 8 MB, `['-t', '1']`, `['-S']` for SASL. @default [] */
  args?: readonly string[];
  /** The port; a free one is picked when omitted (reuse one to restart a server "in place"). */
  port?: number;
  /** The binary. @default 'memcached' */
  binary?: string;
  /** Extra environment variables (e.g. `SASL_CONF_PATH`). @default {} */
  env?: Record<string, string>;
  /** How long to wait for the server to accept connections, in ms. @default 5000 */
  startTimeout?: number;
}

export interface RunningMemcached {
  /** `['127.0.0.1:PORT']`, ready for `new MemcachedClient({ servers })`. */
  servers: string[];
  port: number;
  /** The process id, e.g. to send signals in fault tests. */
  pid: number;
  /** Kills the process and waits for it to exit. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

async function launch(options: StartMemcachedOptions, port: number): Promise<RunningMemcached> {
  const binary = options.binary ?? 'memcached';
  const userArgs = typeof process.getuid === 'function' && process.getuid() === 0 ? ['-u', 'root'] : [];
  const child = spawn(
    binary,
    [...userArgs, '-l', '127.0.0.1', '-p', String(port), '-U', '0', ...(options.args ?? [])],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...options.env },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const failed = new Promise<Error>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      resolve(
        error.code === 'ENOENT'
          ? new CacheError(
              'ERR_INVALID_OPTION',
              `the \`${binary}\` binary was not found: install it with \`apt-get install -y memcached\` (Debian/Ubuntu) or your OS's package manager`,
              { cause: error },
            )
          : error,
      );
    });
    child.once('exit', (code) => resolve(new Error(`memcached exited with code ${code}: ${stderr.trim()}`)));
  });

  const deadline = Date.now() + (options.startTimeout ?? 5000);
  let exited: Error | undefined;
  void failed.then((error) => {
    exited = error;
  });
  while (!(await acceptsConnections(port))) {
    if (exited) throw exited;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`memcached did not accept connections on 127.0.0.1:${port} in time: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (exited) throw exited;

  running.add(child);
  killAllOnExit();
  return {
    servers: [`127.0.0.1:${port}`],
    port,
    pid: child.pid as number,
    async stop() {
      running.delete(child);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exit = once(child, 'exit');
      // SIGTERM makes memcached linger ~1 s; a test server has nothing to save.
      child.kill('SIGKILL');
      await exit;
    },
  };
}

export async function startMemcached(options: StartMemcachedOptions = {}): Promise<RunningMemcached> {
  if (options.port !== undefined) return launch(options, options.port);
  // Another process can take the port between our probe and memcached's bind: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await launch(options, await freePort());
    } catch (error) {
      if (error instanceof CacheError) throw error;
      lastError = error;
    }
  }
  throw lastError;
}
