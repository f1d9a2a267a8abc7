// Prints one plain closing line ("Tests: N passed, N failed, N skipped") that any CI log reader understands.
// Written on exit so that it stays the last line, after jest's own summary.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `Tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`;
    process.on('exit', () => process.stdout.write(`\n${line}\n`));
  }
}
module.exports = SummaryReporter;
