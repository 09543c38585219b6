import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { describeServerLoss } from './server-loss.shared';

describeServerLoss('memjs transport', { transport: (options) => memjsTransport(options), history: 'memjs' });
