import { randomUUID } from 'node:crypto';
import type { Transport } from '@lovely-memcached/core';

/** What a transport declares about itself and its store, so the shared suite can test it fairly. */
export interface TransportContractCapabilities {
  /**
   * Moves the store's clock forward by `ms`. Without it, expiry tests sleep in real time (about 2 s each,
   * since memcached counts whole seconds).
   */
  advanceTime?: (ms: number) => Promise<void> | void;
  /** The store's clock in ms, for absolute expiry times. @default Date.now */
  now?: () => number;
  /** A transport whose only server does not answer; enables the unreachable-server tests. */
  makeUnreachableTransport?: () => Transport | Promise<Transport>;
  /** How long a call to an unreachable server may take to settle, in ms (generous: it is a bound). @default 1500 */
  unreachableDeadlineMs?: number;
  /** The item size limit the store runs with (memcached's `-I`). @default 1048576 */
  maxItemSize?: number;
}

export interface ContractContext {
  transport(): Transport;
  /** A key no other test uses, so tests never depend on flushing. */
  key(label?: string): string;
  elapse(ms: number): Promise<void>;
  now(): number;
  capabilities: TransportContractCapabilities;
}

export function createContext(
  getTransport: () => Transport,
  capabilities: TransportContractCapabilities,
): ContractContext {
  return {
    transport: getTransport,
    key: (label = 'k') => `contract:${label}:${randomUUID()}`,
    elapse: async (ms) => {
      if (capabilities.advanceTime) await capabilities.advanceTime(ms);
      else await new Promise((resolve) => setTimeout(resolve, ms));
    },
    now: () => (capabilities.now ?? Date.now)(),
    capabilities,
  };
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (value: Uint8Array | undefined): string | undefined =>
  value === undefined ? undefined : new TextDecoder().decode(value);
