/**
 * Consistent hashing compatible with libmemcached's weighted ketama
 * (`MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`): for the same server list, a key lands on the same server as it would
 * through libmemcached, pylibmc or any other ketama client, and adding or removing one server moves only that
 * server's share of the keys.
 */
import { createHash } from 'node:crypto';
import { parseServerAddress } from './transport';

const POINTS_PER_SERVER = 160;
const POINTS_PER_HASH = 4;
const DEFAULT_PORT = 11211;

export interface HashRing {
  /** Index into the server list of the server that owns `key`. */
  serverFor(key: string): number;
}

function md5(text: string): Buffer {
  return createHash('md5').update(text).digest();
}

/** Builds the ring for `host:port[:weight]` addresses, in the order given. */
export function createHashRing(addresses: readonly string[]): HashRing {
  if (addresses.length <= 1) return { serverFor: () => 0 };
  const servers = addresses.map(parseServerAddress);
  const totalWeight = servers.reduce((sum, s) => sum + s.weight, 0);
  const points: Array<{ value: number; index: number }> = [];
  servers.forEach((server, index) => {
    // libmemcached computes the share in single-precision floats; Math.fround keeps the rounding identical.
    const share = Math.fround(Math.fround(server.weight) / Math.fround(totalWeight));
    const perServer =
      Math.floor(
        Math.fround(
          Math.fround(
            Math.fround(share * (POINTS_PER_SERVER / POINTS_PER_HASH)) * Math.fround(servers.length),
          ) + 0.0000000001,
        ),
      ) * POINTS_PER_HASH;
    // libmemcached leaves the default port out of the point names.
    const name = server.port === DEFAULT_PORT ? server.host : `${server.host}:${server.port}`;
    for (let i = 0; i < perServer / POINTS_PER_HASH; i++) {
      const digest = md5(`${name}-${i}`);
      for (let k = 0; k < POINTS_PER_HASH; k++) points.push({ value: digest.readUInt32LE(k * 4), index });
    }
  });
  points.sort((a, b) => a.value - b.value);
  const values = Uint32Array.from(points, (p) => p.value);
  const owners = Uint16Array.from(points, (p) => p.index);

  return {
    serverFor(key: string): number {
      const hash = md5(key).readUInt32LE(0);
      let left = 0;
      let right = values.length;
      while (left < right) {
        const middle = (left + right) >>> 1;
        if ((values[middle] as number) < hash) left = middle + 1;
        else right = middle;
      }
      return owners[right === values.length ? 0 : right] as number;
    },
  };
}
