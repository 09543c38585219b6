import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Read sibling packages from source (the custom export condition), so tests need no build.
  resolve: { conditions: ['@lovely-memcached/source'] },
  ssr: { resolve: { conditions: ['@lovely-memcached/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
