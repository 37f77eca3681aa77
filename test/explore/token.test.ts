import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadToken, decodeToken, encodeToken } from '../../src/explore/token.js';

describe('replay tokens', () => {
  it('round-trip any list of choices', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1200 }), { maxLength: 200 }), (cs) => {
      expect(decodeToken(encodeToken(cs))).toEqual(cs);
    }));
  });

  it('are versioned printable strings', () => {
    expect(encodeToken([0, 1, 35, 2])).toBe('v1.01z0z2');
    expect(() => decodeToken('01')).toThrow(BadToken);
    expect(() => decodeToken('v1.0!')).toThrow(/"!" at position 1/);
  });
});
