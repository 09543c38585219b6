/** The misbehaving-server suite (test/hangs.shared.ts) over the meta transport, against a fake text server. */
import { describeHangs } from '../../../test/hangs.shared';
import { metaTransport } from '../src';
import { startFakeServer } from './support/fake-text-server';

describeHangs('metaTransport', {
  makeTransport: (options) => metaTransport(options),
  startFake: startFakeServer,
  misbehaviours: ['close', 'stall', 'half-line', 'garbage', 'long-line', 'short-value', 'wrong-opaque'],
  badInput: ['garbage', 'long-line', 'short-value', 'wrong-opaque'],
});
