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
export {
  type CommonTransportOptions,
  checkMilliseconds,
  MAX_TIMER_DELAY,
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
export { type ServerEndpoint, ServerPool } from './server-pool';
export { checkTlsOption, type OpenedSocket, openSocket, type TlsOption } from './socket';
export { BURST_NUDGE_DELAY, FIRST_NUDGE_DELAY, StallNudger, TLS_RECORD_SIZE } from './stall-nudge';
export { closedReason, TickWriter } from './tick-writer';
