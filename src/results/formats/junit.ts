/**
 * JUnit XML, read from the results file the grader wrote (pytest `--junitxml`, Maven Surefire / Gradle
 * `TEST-*.xml`, jest-junit, node/go/… reporters). Root `<testsuites>` or `<testsuite>`, testsuites nested at any
 * depth; one test per `<testcase>`, in document order within a suite, a suite's own testcases before those of
 * the suites nested in it.
 *
 * - name: `classname.name`; just `name` when the classname is empty or equal to the name (jest-junit writes
 *   the same text in both by default).
 * - status: `<failure>` → failed, else `<error>` → error, else `<skipped>` → skipped, else passed.
 * - output: the message attribute and text of each failure/error/skipped element, then the testcase's
 *   `<system-out>` and `<system-err>`; at most 64 KiB.
 * - weight: a testcase property `max_score`, else `points`, else `weight` (`<properties><property name="max_score"
 *   value="2"/></properties>`, as pytest's `record_property('max_score', 2)` writes) gives its max_score;
 *   default 1. score = max_score if passed, else 0.
 * - grade = Σ score, max_grade = Σ max_score; with a configured maxGrade, grade = Σ score / Σ max_score ×
 *   maxGrade (0 when Σ max_score is 0) and max_grade = maxGrade; rounded to 4 decimals.
 *
 * Safety: the XML is checked by fast-xml-parser's validator, then parsed with entity processing OFF, so a
 * DOCTYPE's entities are never expanded (billion laughs stays small); only the five predefined entities and
 * character references are decoded afterwards, which can only shrink text. Nesting is limited by the parser
 * (maxNestedTags). Total: never throws; no I/O.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { TestResult, TestStatus } from '../result-schema';
import { droppedTestsComment, MAX_NAME, MAX_OUTPUT_BYTES, MAX_TESTS, maxGradeProblem, scaledGrade, truncateChars, truncateOutput } from './bounds';
import { describeError, total } from './total';
import type { FormatParser, GraderOutput, ParseOutcome } from './types';

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const WEIGHT_PROPERTIES = ['max_score', 'points', 'weight'] as const;
/** fast-xml-parser's own limit (maxNestedTags); checked first, cheaply, so deep junk never reaches the validator. */
const MAX_DEPTH = 100;
const ARRAY_TAGS = new Set(['testsuites', 'testsuite', 'testcase', 'properties', 'property', 'failure', 'error', 'skipped', 'system-out', 'system-err']);

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
  isArray: (tagName: string, _path: unknown, _isLeaf: boolean, isAttribute: boolean) => !isAttribute && ARRAY_TAGS.has(tagName),
});

type XmlNode = Record<string, unknown>;

function problem(text: string): ParseOutcome {
  return { ok: false, problem: text };
}

function parseJunit(output: GraderOutput): ParseOutcome {
  const file = output.resultsFile;
  if (file === null) return problem('the grader wrote no JUnit XML file');
  if (file === undefined) return problem('no JUnit XML results file was provided');
  if (!Buffer.isBuffer(file)) return problem('the JUnit XML results file is not a byte buffer');
  const badMaxGrade = maxGradeProblem(output);
  if (badMaxGrade) return badMaxGrade;
  const maxGrade = output.maxGrade;

  let text = file.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return problem('the JUnit XML file is empty');

  if (xmlNestingExceeds(text, MAX_DEPTH)) return problem(`the JUnit XML is nested more than ${MAX_DEPTH} elements deep`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const err = valid.err;
    // The validator reports tags left open at the end as a JSON list; say it in words.
    const open = /^Invalid '\[([\s\S]*)\]' found\.?$/.exec(err.msg);
    const names = open?.[1]?.match(/"[^"]*"/g)?.map((n) => n.slice(1, -1)) ?? [];
    if (open !== null) return problem(`the JUnit XML does not parse: it ends before these elements are closed: ${names.join(', ').slice(0, 200)}`);
    return problem(`the JUnit XML does not parse: ${err.msg.replace(/\s+/g, ' ').slice(0, 300)} (line ${err.line}, column ${err.col})`);
  }
  let doc: unknown;
  try {
    doc = xmlParser.parse(text);
  } catch (err) {
    return problem(`the JUnit XML does not parse: ${describeError(err)}`);
  }
  if (!isNode(doc)) return problem('the JUnit XML has no root element');
  const roots = Object.keys(doc).filter((k) => !k.startsWith('?') && !k.startsWith('!') && k !== '#text');
  const rootName = roots[0];
  if (rootName === undefined) return problem('the JUnit XML has no root element');
  if (rootName !== 'testsuites' && rootName !== 'testsuite') {
    return problem(`the JUnit XML root is <${rootName.slice(0, 60)}>, not <testsuites> or <testsuite>`);
  }

  // Depth-first over suites (bounded by the parser's nesting limit), testcases in document order per suite.
  const cases: unknown[] = [];
  const stack: unknown[] = [...asArray(doc[rootName])].reverse();
  while (stack.length > 0) {
    const suite = stack.pop();
    if (!isNode(suite)) continue;
    for (const tc of asArray(own(suite, 'testcase'))) cases.push(tc);
    const children = [...asArray(own(suite, 'testsuite')), ...asArray(own(suite, 'testsuites'))];
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  if (cases.length === 0) return problem('the JUnit XML has no <testcase>');

  const tests: TestResult[] = [];
  let score = 0;
  let max = 0;
  for (let i = 0; i < cases.length; i++) {
    const tc = cases[i];
    const node: XmlNode = isNode(tc) ? tc : {};
    const name = testName(node, i);
    const weight = readWeight(node);
    if (!weight.ok) return problem(`testcase ${JSON.stringify(name.slice(0, 100))} ${weight.problem}`);
    const failures = asArray(own(node, 'failure'));
    const errors = asArray(own(node, 'error'));
    const skips = asArray(own(node, 'skipped'));
    const status: TestStatus = failures.length > 0 ? 'failed' : errors.length > 0 ? 'error' : skips.length > 0 ? 'skipped' : 'passed';
    const testScore = status === 'passed' ? weight.value : 0;
    score += testScore;
    max += weight.value;
    if (tests.length >= MAX_TESTS) continue;
    const test: TestResult = { name, score: testScore, max_score: weight.value, status };
    const out = testOutput(node, [...failures, ...errors, ...skips]);
    if (out !== '') test.output = out;
    tests.push(test);
  }
  if (!Number.isFinite(score) || !Number.isFinite(max)) return problem('the JUnit test weights add up to a non-finite number');
  const comments: string[] = [];
  if (cases.length > MAX_TESTS) comments.push(droppedTestsComment(cases.length - MAX_TESTS));
  return { ok: true, parsed: { success: true, ...scaledGrade(score, max, maxGrade), comments, tests } };
}

/**
 * Whether elements nest deeper than `limit`, by a linear scan over tags (comments, CDATA, declarations and
 * processing instructions skipped; quoted attribute values may contain `>`). Malformed input returns false and
 * is left to the validator.
 */
function xmlNestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let i = text.indexOf('<');
  while (i !== -1) {
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end === -1) return false;
      i = text.indexOf('<', end + 3);
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end === -1) return false;
      i = text.indexOf('<', end + 3);
      continue;
    }
    const next = text.charCodeAt(i + 1);
    if (next === 0x21 || next === 0x3f) {
      // <!DOCTYPE …>, <!ENTITY …>, <?xml …?>
      const end = text.indexOf('>', i + 2);
      if (end === -1) return false;
      i = text.indexOf('<', end + 1);
      continue;
    }
    if (next === 0x2f) {
      depth--;
      i = text.indexOf('<', i + 2);
      continue;
    }
    let j = i + 1;
    let quote = 0;
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === 0x22 || c === 0x27) quote = c;
      else if (c === 0x3e) break;
    }
    if (j >= text.length) return false;
    if (text.charCodeAt(j - 1) !== 0x2f && ++depth > limit) return true;
    i = text.indexOf('<', j + 1);
  }
  return false;
}

function testName(node: XmlNode, index: number): string {
  const name = decodeEntities(attr(node, 'name')).trim();
  const classname = decodeEntities(attr(node, 'classname')).trim();
  let full: string;
  if (name === '') full = classname;
  else if (classname === '' || classname === name) full = name;
  else full = `${classname}.${name}`;
  if (full === '') full = `test ${index + 1}`;
  return truncateChars(full, MAX_NAME);
}

type Weight = { ok: true; value: number } | { ok: false; problem: string };

function readWeight(node: XmlNode): Weight {
  const found = new Map<string, string>();
  for (const props of asArray(own(node, 'properties'))) {
    if (!isNode(props)) continue;
    for (const prop of asArray(own(props, 'property'))) {
      if (!isNode(prop)) continue;
      const key = attr(prop, 'name').trim();
      if (!(WEIGHT_PROPERTIES as readonly string[]).includes(key) || found.has(key)) continue;
      const value = own(prop, '@_value') !== undefined ? attr(prop, 'value') : textOf(prop);
      found.set(key, decodeEntities(value).trim());
    }
  }
  for (const key of WEIGHT_PROPERTIES) {
    const raw = found.get(key);
    if (raw === undefined) continue;
    if (!NUMBER.test(raw)) return { ok: false, problem: `has a ${key} property that is not a number: ${JSON.stringify(raw.slice(0, 40))}` };
    const value = Number(raw);
    if (!Number.isFinite(value)) return { ok: false, problem: `has a ${key} property that is not a finite number` };
    if (value < 0) return { ok: false, problem: `has a negative ${key} property` };
    return { ok: true, value };
  }
  return { ok: true, value: 1 };
}

function testOutput(node: XmlNode, outcomes: unknown[]): string {
  const parts: string[] = [];
  let size = 0;
  const add = (s: string): void => {
    const t = s.replace(/^\n+/, '').trimEnd();
    if (t === '' || size > MAX_OUTPUT_BYTES) return;
    parts.push(t);
    size += t.length;
  };
  for (const el of outcomes) {
    if (isNode(el)) {
      const message = decodeEntities(attr(el, 'message'));
      const body = decodeEntities(textOf(el));
      add(message);
      if (body.trim() !== message.trim()) add(body);
    } else if (typeof el === 'string') {
      add(decodeEntities(el));
    }
  }
  for (const stream of ['system-out', 'system-err']) {
    for (const el of asArray(own(node, stream))) {
      const body = decodeEntities(isNode(el) ? textOf(el) : typeof el === 'string' ? el : '');
      if (body.trim() !== '') add(`[${stream}]\n${body.replace(/^\n+/, '')}`);
    }
  }
  return truncateOutput(parts.join('\n'));
}

function isNode(x: unknown): x is XmlNode {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function own(node: XmlNode, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

function asArray(x: unknown): unknown[] {
  if (x === undefined || x === null) return [];
  return Array.isArray(x) ? x : [x];
}

function attr(node: XmlNode, name: string): string {
  const v = own(node, `@_${name}`);
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

function textOf(node: XmlNode): string {
  const v = own(node, '#text');
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** The predefined XML entities and character references; anything else (DOCTYPE entities) is left as written. */
function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(lt|gt|amp|quot|apos));/g, (whole, hex?: string, dec?: string, named?: string) => {
    if (named !== undefined) return NAMED[named] ?? whole;
    const code = hex !== undefined ? parseInt(hex, 16) : parseInt(dec ?? '', 10);
    if (!Number.isInteger(code) || code < 1 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\uFFFD';
    return String.fromCodePoint(code);
  });
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };





export const junitParser: FormatParser = {
  format: 'junit',
  parse: total('the JUnit XML', parseJunit),
};
