import { defineConfig, type Options } from 'tsup';

/** One build for every package: ESM + CJS + .d.ts, dependencies left external. */
export function packageBuild(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    splitting: false,
    ...overrides,
  });
}
