export { memjsTransport } from './memjs-transport';
export type { MemjsTransportEvent, MemjsTransportOptions } from './options';
