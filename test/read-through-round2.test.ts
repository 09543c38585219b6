import { describeReadThroughRoundTwo } from './read-through-round2.shared';
import { memorySetup } from './support/client-groups';

describeReadThroughRoundTwo('the memory transport', memorySetup);
