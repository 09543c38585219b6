import { describeGuaranteeDefects } from './guarantee-defects.shared';
import { networkSetups } from './support/client-groups';

for (const [name, setup] of networkSetups()) describeGuaranteeDefects(name, setup);
