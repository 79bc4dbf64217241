// A short fuzzing run inside npm test, plus every input that ever broke something
// (test/fixtures/fuzz/*.bin). `npm run fuzz -- --seconds N` runs the same thing for longer.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, Method, StunClass } from '../../src/stun/index.js';
import { closeEngineHarnesses, engineHarness } from '../support/engine-harness.js';
import { Random, mutate, seeds } from '../support/fuzz.js';
import { fuzzCodec, fuzzEngine, fuzzFramer } from '../support/fuzz-targets.js';

const corpusDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/fuzz');
const corpus = fs.readdirSync(corpusDir).filter((f) => f.endsWith('.bin')).map((f) => fs.readFileSync(path.join(corpusDir, f)));
afterEach(closeEngineHarnesses);

describe('fuzzing', () => {
  it('the codec and the framer throw nothing but their own errors on 20,000 mutated inputs', () => {
    const random = new Random(20261125);
    const base = seeds();
    for (let i = 0; i < 20_000; i++) {
      const input = mutate(random, base);
      fuzzCodec(input);
      fuzzFramer(input, random.below(input.length + 1));
    }
  });

  it('the engine never throws, stays bounded, and still allocates after 5,000 mutated inputs', async () => {
    const t = await engineHarness();
    const random = new Random(7);
    const base = seeds();
    for (let i = 0; i < 5_000; i++) fuzzEngine(t.engine, t.session, mutate(random, base));
    for (const input of corpus) fuzzEngine(t.engine, t.session, input);
    await new Promise((r) => setTimeout(r, 50)); // let asynchronous answers finish
    expect(t.engine.allocations.size).toBeLessThanOrEqual(1);
    await t.request(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 0)); // drop any allocation a mutant made
    const response = await t.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));
    expect(response.cls).toBe(StunClass.SuccessResponse);
  });

  it('replays the regression corpus through the codec and the framer', () => {
    for (const input of corpus) {
      fuzzCodec(input);
      fuzzFramer(input, input.length >> 1);
    }
  });
});
