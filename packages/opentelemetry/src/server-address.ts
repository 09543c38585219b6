import type { Attributes } from '@opentelemetry/api';
import { ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from './semantic-conventions';

const parsed = new Map<string, Attributes>();

/**
 * `server.address` and `server.port` of a `host:port` server (`[v6]:port` too), parsed once per server: this runs
 * on every traced request. A server without a port gives the address alone.
 */
export function serverAttributes(server: string): Attributes {
  let attributes = parsed.get(server);
  if (attributes === undefined) {
    const match = /^\[?(.*?)\]?:(\d+)$/.exec(server);
    attributes = Object.freeze(
      match
        ? { [ATTR_SERVER_ADDRESS]: match[1], [ATTR_SERVER_PORT]: Number(match[2]) }
        : { [ATTR_SERVER_ADDRESS]: server },
    );
    // Servers come from configuration, so the map stays small; the bound is against a caller that makes them up.
    if (parsed.size >= 1024) parsed.clear();
    parsed.set(server, attributes);
  }
  return attributes;
}
