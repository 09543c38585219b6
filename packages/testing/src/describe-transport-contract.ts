/**
 * The contract every transport passes: memcached's behaviour as the core relies on it, checked the same way
 * for the memory transport and for real memcached. Split by concern; each concern is a `describe` block.
 * The entry `@lovely-memcached/testing/contract`: the only one that imports vitest (an optional peer).
 */
import type { Transport } from '@lovely-memcached/core';
import { afterAll, beforeAll, describe } from 'vitest';
import { argumentsContract } from './contract/arguments';
import { casAndCountersContract } from './contract/cas-and-counters';
import { type ContractContext, createContext, type TransportContractCapabilities } from './contract/context';
import { expiryContract } from './contract/expiry';
import { keysContract } from './contract/keys';
import { limitsContract } from './contract/limits';
import { multiGetContract } from './contract/multi-get';
import { serverContract } from './contract/server';
import { storageContract } from './contract/storage';
import { unreachableContract } from './contract/unreachable';

export type { TransportContractCapabilities } from './contract/context';

const CONCERNS: Array<[string, (ctx: ContractContext) => void]> = [
  ['storage', storageContract],
  ['cas and counters', casAndCountersContract],
  ['multi-get', multiGetContract],
  ['expiry', expiryContract],
  ['item size limit', limitsContract],
  ['server commands', serverContract],
  ['keys', keysContract],
  ['arguments', argumentsContract],
  ['unreachable server', unreachableContract],
];

/**
 * Registers the shared suite for a transport.
 * @param name shown in the test names
 * @param makeTransport called once before the suite; may be async (e.g. after starting a server)
 * @param capabilities what the transport and its store offer the suite (a fake clock, an unreachable variant)
 */
export function describeTransportContract(
  name: string,
  makeTransport: () => Transport | Promise<Transport>,
  capabilities: TransportContractCapabilities = {},
): void {
  describe(`transport contract: ${name}`, () => {
    let transport: Transport | undefined;
    beforeAll(async () => {
      transport = await makeTransport();
    });
    afterAll(async () => {
      await transport?.close();
    });
    const ctx = createContext(() => {
      if (transport === undefined) throw new Error('the transport is not made yet');
      return transport;
    }, capabilities);
    for (const [concern, register] of CONCERNS) describe(concern, () => register(ctx));
  });
}
