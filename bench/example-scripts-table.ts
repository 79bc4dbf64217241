// coturn's example scripts (Debian's package, /usr/share/doc/coturn/examples/scripts): every
// server + client pair run against coturn's own turnserver and against Turnpike, one pair at a
// time, on loopback and free ports; prints the table (pair, coturn, Turnpike, with counts) as
// Markdown, then the scripts left out and why.
// Run: npm run examples:table (EXAMPLES_ONLY=<substring> runs the matching pairs only).
import { SERVER_SETUPS, SKIPPED_SCRIPTS, pairName, runServerSetup, type PairOutcome } from '../test/support/example-pairs.js';
import { prepareExamplesDir, type ServerUnderTest } from '../test/support/example-scripts.js';
import { runMain } from './run-main.js';

const ONLY = process.env['EXAMPLES_ONLY'];

async function runAll(server: ServerUnderTest): Promise<Map<string, PairOutcome>> {
  const examples = prepareExamplesDir(server);
  const outcomes = new Map<string, PairOutcome>();
  try {
    for (const setup of SERVER_SETUPS) {
      const clients = setup.clients.filter((c) => !ONLY || pairName(setup, c).includes(ONLY));
      if (clients.length === 0) continue;
      const started = Date.now();
      for (const o of await runServerSetup(examples, setup, clients)) outcomes.set(o.pair, o);
      console.error(`${server}: ${setup.servers[0]}: ${clients.length} pair(s) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  } finally {
    if (!process.env['KEEP_TEST_TMP']) examples.remove();
  }
  return outcomes;
}

const cell = (o: PairOutcome | undefined): string => (o ? `${o.passed ? 'pass' : 'FAIL'}: ${o.detail}` : 'not run');

runMain(async () => {
  const coturn = await runAll('coturn');
  const turnpike = await runAll('turnpike');
  console.log('| pair | coturn 4.6.1 | Turnpike |');
  console.log('| --- | --- | --- |');
  for (const pair of coturn.keys()) console.log(`| ${pair} | ${cell(coturn.get(pair))} | ${cell(turnpike.get(pair))} |`);
  console.log('\nLeft out, by name:\n');
  for (const [script, why] of SKIPPED_SCRIPTS) console.log(`- ${script}: ${why}`);
  const regressions = [...coturn.values()].filter((o) => o.passed && !turnpike.get(o.pair)?.passed);
  return regressions.length === 0 ? 0 : 1;
});
