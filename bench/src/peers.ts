/** The clients a user might pick instead, each behind the same promise shape: get / set of a string. */

import { MemcacheClient } from 'memcache-client';
import Memcached from 'memcached';
import memjs from 'memjs';

export interface PlainClient {
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  close(): void;
}

export function rawMemjs(server: string): PlainClient & { client: memjs.Client } {
  const client = memjs.Client.create(server, { logger: { log: () => {} } });
  return {
    client,
    get: (key) => client.get(key),
    set: (key, value) => client.set(key, value, { expires: 3600 }),
    close: () => client.close(),
  };
}

export function memcached3rdEden(server: string): PlainClient {
  const client = new Memcached(server, { retries: 2, timeout: 5000, poolSize: 10 });
  return {
    get: (key) =>
      new Promise((resolve, reject) =>
        client.get(key, (error, data) => (error ? reject(error) : resolve(data))),
      ),
    set: (key, value) =>
      new Promise((resolve, reject) =>
        client.set(key, value, 3600, (error) => (error ? reject(error) : resolve(true))),
      ),
    close: () => client.end(),
  };
}

export function memcacheClient(server: string): PlainClient {
  const client = new MemcacheClient({ server, ignoreNotStored: true });
  return {
    get: (key) => client.get(key),
    set: (key, value) => client.set(key, value, { lifetime: 3600 }),
    close: () => client.shutdown(),
  };
}
