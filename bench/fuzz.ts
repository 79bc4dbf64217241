// `npm run fuzz -- --seconds N [--seed S]`: the fuzzer of test/unit/fuzz.test.ts, for longer.
// Every input that throws what it must not is saved to test/fixtures/fuzz/, where npm test
// replays it from then on.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeEngineHarnesses } from '../test/support/engine-harness.js';
import { Random, mutateForEngine } from '../test/support/fuzz.js';
import { engineToFuzz, fuzzCodec, fuzzEngine, fuzzFramer } from '../test/support/fuzz-targets.js';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number`);
  return value;
};
const seconds = arg('seconds', 30);
const seed = arg('seed', Date.now() % 2 ** 31);
const corpusDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/fuzz');

const { t, seeds } = await engineToFuzz();
const random = new Random(seed);
const deadline = Date.now() + seconds * 1000;
let runs = 0;
let failures = 0;
while (Date.now() < deadline) {
  for (let i = 0; i < 1000; i++, runs++) {
    const input = mutateForEngine(random, seeds);
    try {
      fuzzCodec(input);
      fuzzFramer(input, random.below(input.length + 1));
      await fuzzEngine(t, input);
    } catch (error) {
      failures++;
      const file = path.join(corpusDir, `crash-${createHash('sha1').update(input).digest('hex').slice(0, 12)}.bin`);
      fs.writeFileSync(file, input);
      console.error(`${file}: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }
}
closeEngineHarnesses();
console.log(`fuzz: seed ${seed}, ${runs} inputs in ${seconds} s, ${failures} failures, ${t.engine.counters.authSuccesses} authenticated, allocations left ${t.engine.allocations.size}`);
process.exit(failures > 0 ? 1 : 0);
