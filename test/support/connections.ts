/** How many client connections a real memcached counts, read through a transport of the test's choosing. */
import type { TransportFactory } from '@lovely-memcached/core';
import type { RunningMemcached } from '@lovely-memcached/testing';

async function countConnections(server: RunningMemcached, transport: TransportFactory): Promise<number> {
  const probe = transport(server.servers);
  const [stats] = await probe.stats();
  await probe.close();
  // Minus the connection this very stats request came over.
  return Number(stats?.stats.curr_connections) - 1;
}

/**
 * memcached's count once it has settled: a connection just closed (a previous count's, the start-up check's)
 * is still counted until the server has processed its close, so read until two reads 50 ms apart agree.
 */
export async function settledConnections(
  server: RunningMemcached,
  transport: TransportFactory,
): Promise<number> {
  let previous = await countConnections(server, transport);
  for (let attempt = 0; attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const current = await countConnections(server, transport);
    if (current === previous) return current;
    previous = current;
  }
  return previous;
}
