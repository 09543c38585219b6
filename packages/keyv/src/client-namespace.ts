/**
 * The client namespace a Keyv namespace lives in: `keyv:<namespace>` (`keyv:` alone for a Keyv without one),
 * after the client's `defaultNS` and a colon when it has one (`shop:keyv:users`).
 *
 * Every Keyv namespace is a namespace of its own, so `clear()` is the client's `invalidateNamespace`: one round
 * trip whatever the number of entries, seen by every process, other namespaces untouched. The `keyv` part keeps
 * Keyv's entries apart from what the application stores through the same client under its own keys, and the
 * client's `defaultNS` keeps two applications apart that both use Keyv's default namespace (`keyv`).
 */
export function clientNamespace(defaultNS: string | null, namespace: string | undefined): string {
  const own = `keyv:${namespace ?? ''}`;
  return defaultNS === null ? own : `${defaultNS}:${own}`;
}
