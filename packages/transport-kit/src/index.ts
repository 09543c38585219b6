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
  capLifetime,
  checkGutter,
  checkGutterApart,
  type GutterEvent,
  type GutterOptions,
  KEEP,
  type Lifetime,
  type ResolvedGutter,
} from './gutter';
export { checkMilliseconds, MAX_TIMER_DELAY } from './milliseconds';
export { type FlushReason, type MissedStep, MissedWrites, type MissedWritesEvent } from './missed-writes';
export {
  COMMON_OPTION_NAMES,
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
export { type Access, ServerPool } from './server-pool';
export { checkTlsOption, type OpenedSocket, openSocket, type ServerEndpoint, type TlsOption } from './socket';
export { BURST_NUDGE_DELAY, FIRST_NUDGE_DELAY, StallNudger, TLS_RECORD_SIZE } from './stall-nudge';
export { closedReason, TickWriter } from './tick-writer';
