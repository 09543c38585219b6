/**
 * Starts a real `redis-server` for a test (an L1 bus, `@lovely-memcached/bus-redis`): on a free loopback port,
 * without persistence, waiting until it accepts connections; `stop()` kills it. `pause()` / `resume()` send
 * SIGSTOP / SIGCONT: a server that keeps its connections open and answers nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { CacheError } from '@lovely-memcached/core';
import { acceptsConnections, freePort } from './ports';

export interface StartRedisOptions {
  /** The port; a free one is picked when omitted (reuse one to restart a server in place). */
  port?: number;
  /** @default 'redis-server' */
  binary?: string;
  /** How long to wait for the server to accept connections, in ms. @default 5000 */
  startTimeout?: number;
}

export interface RunningRedis {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  pid: number;
  /** SIGSTOP: the server hangs with its connections open. */
  pause(): void;
  /** SIGCONT */
  resume(): void;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

export async function startRedis(options: StartRedisOptions = {}): Promise<RunningRedis> {
  const binary = options.binary ?? 'redis-server';
  const port = options.port ?? (await freePort());
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited: Error | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    exited =
      error.code === 'ENOENT'
        ? new CacheError(
            'ERR_INVALID_OPTION',
            `the \`${binary}\` binary was not found: install it with \`apt-get install -y redis-server\` (Debian/Ubuntu)`,
            { cause: error },
          )
        : error;
  });
  child.once('exit', (code) => {
    exited ??= new Error(`redis-server exited with code ${code}: ${stderr.trim()}`);
  });
  const deadline = Date.now() + (options.startTimeout ?? 5000);
  while (!(await acceptsConnections(port))) {
    if (exited) throw exited;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `redis-server did not accept connections on 127.0.0.1:${port} in time: ${stderr.trim()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const each of running) each.kill('SIGKILL');
    });
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid as number,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      running.delete(child);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exit = once(child, 'exit');
      child.kill('SIGKILL');
      await exit;
    },
  };
}
