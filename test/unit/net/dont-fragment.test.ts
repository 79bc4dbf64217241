// DONT-FRAGMENT is honoured only where the kernel really sets DF on what the relay sends.
import { describe, expect, it } from 'vitest';
import { kernelSetsDontFragment } from '../../../src/net/dont-fragment.js';

describe.runIf(process.platform === 'linux')('kernelSetsDontFragment on Linux', () => {
  it('is true with path-MTU discovery on (ip_no_pmtu_disc = 0, the default)', () => {
    expect(kernelSetsDontFragment(() => '0\n')).toBe(true);
  });

  it('is false when path-MTU discovery is off, in any mode', () => {
    for (const mode of ['1\n', '2\n', '3\n']) expect(kernelSetsDontFragment(() => mode), mode).toBe(false);
  });

  it('is false when the setting cannot be read', () => {
    expect(
      kernelSetsDontFragment(() => {
        throw new Error('ENOENT');
      }),
    ).toBe(false);
  });
});
