export { assertCasUnique, rejecting } from './arguments';
export {
  type AutoDiscoverOptions,
  type ClusterConfig,
  checkAutoDiscover,
  type DiscoveryEvent,
  discoveringTransport,
  fetchClusterConfig,
  parseClusterConfig,
  withAutoDiscovery,
} from './cluster-discovery';
export { checkMilliseconds, MAX_TIMER_DELAY } from './milliseconds';
export {
  type CommonTransportOptions,
  type ResolvedCommonOptions,
  resolveCommonOptions,
  type TransportEvent,
} from './options';
export {
  type BreakReason,
  type ConnectionMaker,
  type HealthConnection,
  ServerHealth,
} from './server-health';
export { ServerPool } from './server-pool';
export { checkTlsOption, type OpenedSocket, openSocket, type ServerEndpoint, type TlsOption } from './socket';
export { BURST_NUDGE_DELAY, FIRST_NUDGE_DELAY, StallNudger, TLS_RECORD_SIZE } from './stall-nudge';
export { closedReason, TickWriter } from './tick-writer';
