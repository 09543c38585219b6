export { MemoryStore } from './memory-store';
export { type MemoryTransportFactory, memoryTransport } from './memory-transport';
export type { MemoryTransportOptions } from './options';
