// A short fuzzing run inside npm test, plus every input that ever broke something
// (test/fixtures/fuzz/*.bin). `npm run fuzz -- --seconds N` runs the same thing for longer.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, Method, StunClass, type MessageBuilder } from '../../src/stun/index.js';
import { closeEngineHarnesses } from '../support/engine-harness.js';
import { Random, mutate, mutateForEngine, seeds } from '../support/fuzz.js';
import { engineToFuzz, fuzzCodec, fuzzEngine, fuzzFramer } from '../support/fuzz-targets.js';

const corpusDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/fuzz');
const corpus = fs.readdirSync(corpusDir).filter((f) => f.endsWith('.bin')).map((f) => fs.readFileSync(path.join(corpusDir, f)));
afterEach(closeEngineHarnesses);
const udp = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);

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

  it('the engine never throws or fails a handler, stays bounded, and still allocates after 5,000 mutated inputs', async () => {
    const { t, seeds: signedByAlice } = await engineToFuzz();
    const random = new Random(7);
    const authenticatedBefore = t.engine.counters.authSuccesses;
    for (let i = 0; i < 5_000; i++) await fuzzEngine(t, mutateForEngine(random, signedByAlice));
    for (const input of corpus) await fuzzEngine(t, input);
    // A fifth at least must get past authentication, or the handlers behind it go unfuzzed.
    expect(t.engine.counters.authSuccesses - authenticatedBefore).toBeGreaterThan(1_000);
    expect(t.engine.allocations.size).toBeLessThanOrEqual(1);
    await t.request(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 0)); // drop any allocation a mutant made
    expect((await t.request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
  });

  it('replays the regression corpus through the codec and the framer', () => {
    for (const input of corpus) {
      fuzzCodec(input);
      fuzzFramer(input, input.length >> 1);
    }
  });
});
