// Keyv's own compliance suite (api, values, namespaces) over memjs and a real memcached started for it.
import keyvTestSuite from '@keyv/test-suite';
import { MemcachedClient } from '@lovely-memcached/core';
import { startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import Keyv from 'keyv';
import * as vitest from 'vitest';
import { KeyvLovelyMemcached } from '../src';

const running = await startMemcached();
const client = new MemcachedClient({ transport: memjsTransport(), servers: running.servers });

vitest.afterAll(async () => {
  await client.close();
  await running.stop();
});

vitest.describe('@keyv/test-suite over memjs and a real memcached', () => {
  keyvTestSuite(vitest, Keyv, () => new KeyvLovelyMemcached(client));
});
