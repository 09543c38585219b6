// Prints the one line CI reads, "N passed, N failed", from vitest's JSON reports: one file, or several added up
// (CI runs the tests on two Node versions). A missing report counts as one failure: that vitest did not finish.
import { existsSync, readFileSync } from 'node:fs';

const files = process.argv.length > 2 ? process.argv.slice(2) : ['.test-results/vitest.json'];
let passed = 0;
let failed = 0;
for (const file of files) {
  if (!existsSync(file)) {
    failed += 1;
    console.error(`no test report at ${file}: vitest did not finish`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  // A file that failed to load has no test results but must count as a failure.
  const brokenFiles = report.testResults.filter(
    (f) => f.status === 'failed' && f.assertionResults.length === 0,
  ).length;
  passed += report.numPassedTests;
  failed += report.numFailedTests + brokenFiles;
}
console.log(`${passed} passed, ${failed} failed`);
