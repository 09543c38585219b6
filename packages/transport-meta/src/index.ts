export { metaTransport } from './meta-transport';
export type { MetaTransportEvent, MetaTransportOptions } from './options';
