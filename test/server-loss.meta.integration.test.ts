import { type MetaTransportOptions, metaTransport } from '@lovely-memcached/transport-meta';
import { describeServerLoss } from './server-loss.shared';

// Server-side leases (`mg … N`) in the gutter too, their placeholders capped like every write there. (The
// listener takes the events every transport reports; meta's own `unsupported` never comes without a proxy.)
describeServerLoss('meta transport', {
  transport: (options) => metaTransport(options as MetaTransportOptions),
  history: 'meta',
});
