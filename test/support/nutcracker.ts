/**
 * twemproxy (`nutcracker`, apt-get install nutcracker) for tests: started on a free port with a generated
 * configuration, routing by ketama over the given memcached, and stopped with `stop()`. Shared by the proxy
 * test and the invalidation-guarantee history checker.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsConnections, freePort } from '@lovely-memcached/testing';

export interface RunningProxy {
  address: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Debian puts nutcracker in /usr/sbin, which is not on every user's PATH. */
function nutcrackerBinary(): string {
  for (const candidate of ['nutcracker', '/usr/sbin/nutcracker']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {}
  }
  throw new Error('nutcracker (twemproxy) is not installed: apt-get install -y nutcracker');
}

/** nutcracker on a free port, ketama (md5) over `servers`, with a generated YAML configuration. */
export async function startNutcracker(servers: readonly string[]): Promise<RunningProxy> {
  const binary = nutcrackerBinary();
  const [port, statsPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'lovely-nutcracker-'));
  const config = join(dir, 'nutcracker.yml');
  writeFileSync(
    config,
    [
      'lovely:',
      `  listen: 127.0.0.1:${port}`,
      '  hash: md5',
      '  distribution: ketama',
      '  timeout: 1000',
      '  auto_eject_hosts: false',
      '  servers:',
      ...servers.map((server) => `    - ${server}:1`),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    binary,
    ['-c', config, '-s', String(statsPort), '-a', '127.0.0.1', '-o', join(dir, 'nutcracker.log')],
    { stdio: 'ignore' },
  );
  const started = performance.now();
  while (!(await acceptsConnections(port))) {
    if (child.exitCode !== null || performance.now() - started > 5000) {
      child.kill('SIGKILL');
      throw new Error(`nutcracker did not start on port ${port} (see ${dir}/nutcracker.log)`);
    }
    await sleep(20);
  }
  return {
    address: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
