/**
 * The entities of a history and what each kind of update covers. Fixed mappings, so a worker in any process
 * knows an item's namespace and category from its key alone: item i lives in namespace `i % 2` and belongs to
 * category `⌊i / 2⌋ % 3`, so every (category, namespace) pair holds two items.
 *
 * A category is a dependency *within a namespace* (the library scopes dependencies by namespace), so a
 * category update names both: it covers the items of that category in that namespace.
 */
export interface Item {
  key: string;
  ns: string;
  category: string;
}

export interface Keyspace {
  items: readonly Item[];
  namespaces: readonly string[];
  categories: readonly string[];
  item(key: string): Item;
}

/** `soft`: the entries turn stale instead of gone (not for `all`, a `flush_all`). */
export type Update =
  | { kind: 'key'; key: string; ns: string; soft: boolean }
  | { kind: 'category'; category: string; ns: string; soft: boolean }
  | { kind: 'namespace'; ns: string; soft: boolean }
  | { kind: 'all' };

export type UpdateKind = Update['kind'];

/** `prefix` makes the namespaces unique to the run: runs sharing a memcached never read each other's entries. */
export function makeKeyspace(prefix: string, size = 12): Keyspace {
  const namespaces = [`${prefix}-a`, `${prefix}-b`];
  const categories = ['cat:0', 'cat:1', 'cat:2'];
  const items = Array.from({ length: size }, (_, i) => ({
    key: `item:${i}`,
    ns: namespaces[i % namespaces.length] as string,
    category: categories[Math.floor(i / namespaces.length) % categories.length] as string,
  }));
  const byKey = new Map(items.map((item) => [item.key, item]));
  return {
    items,
    namespaces,
    categories,
    item(key) {
      const found = byKey.get(key);
      if (found === undefined) throw new Error(`no item ${key} in the keyspace`);
      return found;
    },
  };
}

/** The item keys an update invalidates: the versions it bumps in the oracle. */
export function coveredKeys(keyspace: Keyspace, update: Update): string[] {
  const { items } = keyspace;
  switch (update.kind) {
    case 'key':
      return [update.key];
    case 'category':
      return items.filter((i) => i.category === update.category && i.ns === update.ns).map((i) => i.key);
    case 'namespace':
      return items.filter((i) => i.ns === update.ns).map((i) => i.key);
    case 'all':
      return items.map((i) => i.key);
  }
}

export function describeUpdate(update: Update): string {
  const soft = update.kind !== 'all' && update.soft ? ', soft: true' : '';
  switch (update.kind) {
    case 'key':
      return `invalidate(${update.key}, { ns: ${update.ns}${soft} })`;
    case 'category':
      return `invalidate(undefined, { ns: ${update.ns}, dependencies: [${update.category}]${soft} })`;
    case 'namespace':
      return `invalidateNamespace(${update.ns}${soft === '' ? '' : ', { soft: true }'})`;
    case 'all':
      return 'invalidateAll()';
  }
}
