// Runs autocannon in its own process so the load generator does not share an event loop (or,
// on two cores, a core) with the servers it measures. autocannon options arrive as JSON in argv;
// the figures the benchmarks use leave as one JSON line on stdout.
import process from 'node:process';
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2] ?? '{}');
autocannon(options, (err, result) => {
  if (err) {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `${JSON.stringify({
      requestsPerSec: result.requests?.average ?? 0,
      total: result.requests?.total ?? 0,
      p50: result.latency?.p50 ?? Number.NaN,
      p99: result.latency?.p99 ?? Number.NaN,
      mean: result.latency?.average ?? Number.NaN,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      durationSec: result.duration,
    })}\n`,
  );
});
