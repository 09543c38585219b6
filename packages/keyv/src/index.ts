export {
  KeyvLovelyMemcached,
  type KeyvLovelyMemcachedOpts,
  type KeyvSetEntry,
} from './keyv-lovely-memcached';
