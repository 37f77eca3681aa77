/** Reports for CI systems: JUnit XML (one test case per variant) and SARIF 2.1.0 (one result per finding). */
import { readFileSync } from 'node:fs';
import type { ExploreResult } from '../explore/explore.js';

export interface Reported {
  readonly r: ExploreResult;
  /** The scenario file, relative to the working directory. */
  readonly file: string;
}

const xml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
// biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters
const xmlText = (s: string): string => xml(s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, ''));

/** JUnit XML: a test suite per scenario, a failing test case per variant whose verdicts are not as expected. */
export function junit(results: readonly Reported[]): string {
  const suites = new Map<string, Reported[]>();
  for (const x of results) suites.set(x.r.scenario, [...(suites.get(x.r.scenario) ?? []), x]);
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const fails = results.filter((x) => !x.r.matchesExpectation).length;
  const total = results.reduce((t, x) => t + x.r.elapsedMs, 0);
  out.push(`<testsuites name="mmsim" tests="${results.length}" failures="${fails}" time="${secs(total)}">`);
  for (const [name, xs] of suites) {
    const f = xs.filter((x) => !x.r.matchesExpectation).length;
    out.push(`  <testsuite name="${xml(name)}" tests="${xs.length}" failures="${f}" time="${secs(xs.reduce((t, x) => t + x.r.elapsedMs, 0))}">`);
    for (const { r, file } of xs) {
      out.push(`    <testcase classname="${xml(name)}" name="${xml(r.variant)}" file="${xml(file)}" time="${secs(r.elapsedMs)}">`);
      if (!r.matchesExpectation) {
        const body = r.findings.map((x) => `${x.verdict}: ${x.message}\nreplay: mmsim replay ${file} ${x.token} --variant ${r.variant}`).join('\n\n');
        out.push(`      <failure type="unexpected-verdict" message="${xml(r.why)}">${xmlText(body)}</failure>`);
      }
      out.push(`      <system-out>${xmlText(`found: ${r.findings.map((x) => x.verdict).join(', ') || 'ok'}; runs ${r.runs}; states ${r.distinctStates}; complete ${r.complete}`)}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/** The 1-based line of a variant's key in its scenario file (1 when it cannot be found). */
function variantLine(file: string, variant: string): number {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    const esc = variant.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const i = lines.findIndex((l) => new RegExp(`^\\s+["']?${esc}["']?\\s*:`).test(l));
    return i < 0 ? 1 : i + 1;
  } catch {
    return 1;
  }
}

/**
 * SARIF 2.1.0: a rule per verdict kind, a result per finding (error when the variant does not expect
 * it, note when it does) and per expected verdict not found, located at the variant in the scenario file.
 */
export function sarif(results: readonly Reported[], version: string): string {
  const rules = new Map<string, number>();
  const rule = (id: string) => {
    if (!rules.has(id)) rules.set(id, rules.size);
    return rules.get(id) as number;
  };
  const out: unknown[] = [];
  for (const { r, file } of results) {
    const location = [{ physicalLocation: { artifactLocation: { uri: file.split('\\').join('/') }, region: { startLine: variantLine(file, r.variant) } } }];
    for (const f of r.findings) {
      const expected = r.expected.includes(f.verdict);
      out.push({
        ruleId: f.verdict,
        ruleIndex: rule(f.verdict),
        level: expected ? 'note' : 'error',
        message: { text: `${r.scenario}/${r.variant}: ${f.message}\nreplay: mmsim replay ${file} ${f.token} --variant ${r.variant}` },
        locations: location,
        properties: { scenario: r.scenario, variant: r.variant, token: f.token, expected },
      });
    }
    for (const v of r.expected.filter((c) => !r.findings.some((f) => f.verdict === c)))
      out.push({ ruleId: v, ruleIndex: rule(v), level: 'error', message: { text: `${r.scenario}/${r.variant}: expected ${v}, not found` }, locations: location });
  }
  const doc = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'mmsim', version, rules: [...rules.keys()].map((id) => ({ id, shortDescription: { text: `mmsim verdict: ${id}` } })) } },
        results: out,
      },
    ],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
