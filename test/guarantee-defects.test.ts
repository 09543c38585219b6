import { describeGuaranteeDefects } from './guarantee-defects.shared';
import { memorySetup } from './support/client-groups';

describeGuaranteeDefects('the memory transport', memorySetup);
