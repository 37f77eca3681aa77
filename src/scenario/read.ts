/** Reading scenario text: bytes → UTF-8 → one YAML/JSON document → plain data, and paths → line numbers. */
import { type Document, LineCounter, type Node, type Pair, type ParsedNode, type YAMLMap, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import { type Problem, ScenarioError, parsePath } from './issues.js';

/** What the loader needs from a parsed file: the data, and where a path sits in the text. */
export interface ReadResult {
  readonly raw: unknown;
  /** 1-based line and column of the node at `path` (or of its nearest existing parent). */
  locate(path: string): { line: number; column: number } | undefined;
}

const NOT_YAML = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]/;
const TOP = 'a scenario: a map (keys name, description, variants; optional locks, world, generate, actors, explore)';

/** Bytes of a file → text; whole-file problems for binary, UTF-16 or otherwise non-UTF-8 content. */
export function decodeBytes(bytes: Uint8Array, file: string): string {
  const fail = (message: string, line?: number): never => {
    throw new ScenarioError(file, [{ path: '', message, ...(line ? { line, column: 1 } : {}) }]);
  };
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) fail('not UTF-8: the file is UTF-16 text; save it as UTF-8');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const loose = new TextDecoder('utf-8').decode(bytes);
    const at = loose.indexOf('\uFFFD');
    const line = at < 0 ? undefined : loose.slice(0, at).split('\n').length;
    return fail(`not UTF-8 text${bytes.includes(0) ? ' (a binary file?)' : ''}: a scenario is a YAML or JSON file saved as UTF-8`, line);
  }
}

/** Parse scenario text into plain data; throws ScenarioError for anything that is not one YAML/JSON document. */
export function readYaml(text: string, file: string): ReadResult {
  const lc = new LineCounter();
  const pos = (offset: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const whole = (problems: Problem[]): never => {
    throw new ScenarioError(file, problems);
  };
  const ctl = NOT_YAML.exec(text);
  if (ctl) {
    const line = text.slice(0, ctl.index).split('\n').length;
    const column = ctl.index - text.lastIndexOf('\n', ctl.index - 1);
    const code = `U+${(ctl[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    whole([{ path: '', message: `not YAML text: control character ${code} (is this a binary file?)`, line, column }]);
  }
  // The reader's own duplicate-key check compares each key with every earlier one; ours uses a set per map.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false, lineCounter: lc, logLevel: 'error' });
  if (doc.errors.length) {
    const deep = doc.errors.find((e) => e.code === 'RESOURCE_EXHAUSTION');
    if (deep) whole([{ path: '', message: 'not readable: lists or maps nested too deeply for the YAML reader', ...pos(deep.pos[0]) }]);
    whole(doc.errors.slice(0, 20).map((e) => ({ path: '', message: yamlMessage(e.code, e.message, text.slice(e.pos[0])), ...pos(e.pos[0]) })));
  }
  if (doc.contents === null) whole([{ path: '', message: `the file is empty; expected ${TOP}` }]);
  const dups = duplicateKeys(doc);
  if (dups.length) whole(dups.slice(0, 20).map((at) => ({ path: '', message: yamlMessage('DUPLICATE_KEY', '', text.slice(at, at + 200)), ...pos(at) })));
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    const m = e instanceof Error ? e.message : '';
    if (/alias count/i.test(m)) whole([{ path: '', message: 'not readable: too many YAML alias (*name) expansions (more than 100)' }]);
    if (/alias/i.test(m)) whole([{ path: '', message: `not valid YAML: ${m.toLowerCase()}` }]);
    throw e;
  }
  const index = new WeakMap<YAMLMap, Map<string, Pair>>();
  return { raw, locate: (path) => locate(doc.contents, parsePath(path), doc, pos, index) };
}

/** Offsets of keys that appear a second time in the same map (one pass, a set per map). */
function duplicateKeys(doc: Document): number[] {
  const out: number[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const p of map.items) {
        const k = keyString(p.key);
        if (seen.has(k)) out.push((p.key as Node | null)?.range?.[0] ?? 0);
        seen.add(k);
      }
    },
  });
  return out;
}

const keyString = (key: unknown): string => String(isScalar(key) ? key.value : key);

function yamlMessage(code: string, message: string, rest: string): string {
  if (code === 'DUPLICATE_KEY') {
    const key = /^[^:,\n}]*/.exec(rest)?.[0].trim() ?? '';
    return `the key ${key && key.length <= 40 ? `"${key}" ` : ''}appears twice in the same map`;
  }
  if (code === 'MULTIPLE_DOCS') return 'more than one YAML document (a `---` line); a scenario file holds one';
  return `not valid YAML: ${message.replace(/ at line \d+, column \d+.*$/s, '')}`;
}

/** Where `path` sits; each map's keys are indexed once (on first use), so many lookups stay linear. */
function locate(root: ParsedNode | null, path: PropertyKey[], doc: Document, pos: (o: number) => { line: number; column: number }, index: WeakMap<YAMLMap, Map<string, Pair>>) {
  let node: Node | null | undefined = root;
  let at = root?.range?.[0];
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc) as Node | undefined;
    if (isMap(node)) {
      let keys = index.get(node);
      if (!keys) {
        keys = new Map();
        for (const p of node.items) if (isPair(p) && !keys.has(keyString(p.key))) keys.set(keyString(p.key), p);
        index.set(node, keys);
      }
      const pair = keys.get(String(seg));
      if (!pair) break;
      at = (pair.key as Node | null)?.range?.[0] ?? at;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      at = item.range?.[0] ?? at;
      node = item;
    } else break;
  }
  return at === undefined ? undefined : pos(at);
}
