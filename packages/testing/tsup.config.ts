import { packageBuild } from '../../tsup.base';

// Two entries: the runner-free helpers, and the vitest contract suite (`@lovely-memcached/testing/contract`).
export default packageBuild({
  entry: { index: 'src/index.ts', contract: 'src/describe-transport-contract.ts' },
});
