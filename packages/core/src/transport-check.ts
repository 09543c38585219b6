/**
 * What a transport factory returned, checked once per server list, so that plain JavaScript passing the factory
 * itself, a promise or a foreign object fails at once with a clear error instead of later with raw TypeErrors.
 */
import { CacheError } from './errors';
import { isThenable } from './option-checks';
import { TRANSPORT_SPECIFICATION_VERSION, type Transport } from './transport';

const TRANSPORT_METHODS = [
  'get',
  'set',
  'add',
  'append',
  'delete',
  'incr',
  'touch',
  'flush',
  'stats',
  'close',
];

/**
 * What a transport factory returned, checked once per server list: plain JavaScript can pass
 * `transport: memjsTransport` (not called), which would otherwise fail later with raw TypeErrors.
 */
export function checkTransport(transport: unknown): Transport {
  if (typeof transport === 'function') {
    throw new CacheError(
      'ERR_NO_TRANSPORT',
      '`transport` returned a function, not a transport: call the transport factory, e.g. `transport: memjsTransport()` (not `transport: memjsTransport`)',
    );
  }
  if (isThenable(transport)) {
    Promise.resolve(transport).catch(() => {}); // refused: its outcome must not become an unhandled rejection
    throw new CacheError(
      'ERR_NO_TRANSPORT',
      '`transport` returned a promise: a transport factory returns the transport itself, synchronously (it connects lazily), e.g. `transport: memjsTransport()`',
    );
  }
  const candidate = transport as Partial<Record<string, unknown>> | null;
  const version = candidate?.specificationVersion;
  const missing = TRANSPORT_METHODS.filter((method) => typeof candidate?.[method] !== 'function');
  if (version !== TRANSPORT_SPECIFICATION_VERSION || missing.length > 0) {
    const found = [
      version === TRANSPORT_SPECIFICATION_VERSION
        ? ''
        : `specificationVersion ${JSON.stringify(version) ?? 'missing'}`,
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
    ].filter((part) => part !== '');
    throw new CacheError(
      'ERR_NO_TRANSPORT',
      `\`transport\` did not return a transport of specification ${TRANSPORT_SPECIFICATION_VERSION} (${found.join('; ')}): pass \`transport: metaTransport()\`, \`transport: memjsTransport()\` or \`transport: memoryTransport()\`, or a factory returning a \`Transport\``,
      { context: { specificationVersion: version } },
    );
  }
  return transport as Transport;
}
