export { assertCasUnique } from './arguments';
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
