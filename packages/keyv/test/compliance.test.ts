// Keyv's own compliance suite (api, values, namespaces) over the in-memory transport.
import keyvTestSuite from '@keyv/test-suite';
import { MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import Keyv from 'keyv';
import * as vitest from 'vitest';
import { KeyvLovelyMemcached } from '../src';

vitest.describe('@keyv/test-suite over the memory transport', () => {
  const client = new MemcachedClient({ transport: memoryTransport() });
  vitest.afterAll(() => client.close());
  keyvTestSuite(vitest, Keyv, () => new KeyvLovelyMemcached(client));
});
