import { Schema } from 'effect';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildModel, variantNames } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { ScenarioSpec } from '../../src/scenario/schema.js';
import { catalogue } from './helpers.js';

describe('the catalogue', () => {
  it('is not empty', () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(5);
  });

  describe.each(catalogue)('$name', ({ path, text }) => {
    it('loads, validates, and every variant builds a model', () => {
      const sc = loadScenarioFile(path);
      expect(sc.file).toBe(path);
      const variants = variantNames(sc);
      expect(variants.length).toBeGreaterThan(0);
      for (const v of variants) {
        const model = buildModel(sc, v);
        expect(model.threads.length, `${v} has threads`).toBeGreaterThan(0);
      }
    });

    it('round-trips: decoded and encoded again equals the input', () => {
      const sc = loadScenarioFile(path);
      const encoded = Schema.encodeSync(ScenarioSpec)(sc.spec);
      expect(encoded).toEqual(parse(text));
      expect(encoded).toEqual(sc.spec);
    });
  });
});
