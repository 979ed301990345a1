/**
 * The names the stack (lib/) and the functions (functions/) share are defined once, in
 * functions/common/contract.ts, and imported by both: derived from the sources and from a
 * synthesized template, never from a list kept here.
 * - No code in lib/ or functions/ spells an environment variable name, a tag key or the seal
 *   purpose key as a literal, except the contract itself.
 * - Every environment variable the synthesized stack sets on a Caretaker function is a contract
 *   name (ENV), and every ENV name is set by the stack and read by some function (or by the
 *   runtime, as listed with the reason below).
 * - Every environment variable a function reads through `process.env` or the env helpers is a
 *   contract name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV, LAMBDA_ENV, OPERATOR_ENV, PURPOSE_KEY, TAG } from '../../functions/common/contract.ts';
import { buildStack, exampleConfig } from '../support/stack.ts';

const ROOT = join(import.meta.dirname, '../..');
const CONTRACT = 'functions/common/contract.ts';

/** ENV names set for the runtime, not for Caretaker's code: who reads them. */
const READ_BY_THE_RUNTIME: Readonly<Partial<Record<keyof typeof ENV, string>>> = {
  nodeOptions: 'Node.js reads NODE_OPTIONS at start (source maps)',
  nodeExtraCaCerts: 'Node.js reads NODE_EXTRA_CA_CERTS at start (the RDS CA bundle)',
  powertoolsServiceName: 'Powertools reads POWERTOOLS_SERVICE_NAME in its Logger, Metrics and Tracer',
};

function sources(folder: string): { path: string; text: string }[] {
  const found: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts'))
        found.push({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') });
    }
  };
  walk(join(ROOT, folder));
  return found;
}

const CODE = [...sources('lib'), ...sources('functions')];

/** A file's code with its comments blanked out (string literals are kept as they are). */
function withoutComments(text: string): string {
  let out = '';
  let i = 0;
  let quote: string | undefined;
  while (i < text.length) {
    const c = text[i]!;
    if (quote) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === quote) quote = undefined;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      if (c === "'" || c === '"' || c === '`') quote = c;
      out += c;
      i++;
    }
  }
  return out;
}

/** A template literal's text without its `${…}` parts (code, not text). */
function withoutSubstitutions(literal: string): string {
  return literal.replace(/\$\{[^}]*\}/g, '');
}

/** The string literals of a file's code (template literals with their `${…}` parts as written). */
function literals(text: string): string[] {
  return [
    ...withoutComments(text).matchAll(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g),
  ].map((match) => match[0].slice(1, -1));
}

const ENV_NAMES = new Set<string>([
  ...Object.values(ENV),
  ...Object.values(OPERATOR_ENV),
  ...Object.values(LAMBDA_ENV),
]);

describe('the contract between lib/ and functions/', () => {
  it('is the only place an environment variable name, a tag key or the seal purpose key is spelled', () => {
    const names = [...ENV_NAMES, ...Object.values(TAG), PURPOSE_KEY];
    const spelled = CODE.filter(({ path }) => path !== CONTRACT).flatMap(({ path, text }) =>
      literals(text).flatMap((literal) =>
        names
          .filter((name) => new RegExp(`(^|[^\\w:-])${name}($|[^\\w:-])`).test(withoutSubstitutions(literal)))
          .map((name) => `${path}: ${name} in '${literal.slice(0, 80)}'`),
      ),
    );

    expect(spelled).toEqual([]);
  });

  it('defines each name once: no two contract entries share a value', () => {
    for (const group of [{ ...ENV, ...OPERATOR_ENV, ...LAMBDA_ENV }, TAG]) {
      const values = Object.values(group);
      expect(values.length).toBe(new Set(values).size);
    }
  });

  it('holds every environment variable a function reads through process.env or the env helpers', () => {
    const reads = CODE.filter(({ path }) => path.startsWith('functions/')).flatMap(({ path, text }) => {
      const code = withoutComments(text);
      const direct = [...code.matchAll(/\b(?:process\.)?env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!);
      const helpers = [
        ...code.matchAll(/(?<![.\w])(?:requireEnv|optionalEnv|intEnv|jsonEnv|positive)\(\s*'([^']+)'/g),
      ].map((m) => m[1]!);
      return [...direct, ...helpers].filter((name) => !ENV_NAMES.has(name)).map((name) => `${path}: ${name}`);
    });

    expect(reads).toEqual([]);
  });

  it('names every variable the synthesized stack sets, and the stack sets every ENV name some function reads', () => {
    // The example, and escalation levels (the one function the example does not deploy).
    const config = exampleConfig() as ReturnType<typeof exampleConfig> & { alerts: Record<string, unknown> };
    config.alerts.escalation = {
      levels: [
        { respondWithinMinutes: 15, subscriptions: [{ protocol: 'email', endpoint: 'lead@example.com' }] },
      ],
    };
    const { template } = buildStack(config);
    const set = new Set(
      Object.values(template.findResources('AWS::Lambda::Function')).flatMap((fn) =>
        Object.keys((fn.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>),
      ),
    );
    const readByFunctions = Object.keys(ENV).filter((key) =>
      CODE.some(
        ({ path, text }) => path.startsWith('functions/') && path !== CONTRACT && text.includes(`ENV.${key}`),
      ),
    );

    expect([...set].filter((name) => !(Object.values(ENV) as string[]).includes(name))).toEqual([]);
    expect(Object.values(ENV).filter((name) => !set.has(name))).toEqual([]);
    expect(
      Object.keys(ENV).filter((key) => !readByFunctions.includes(key) && !(key in READ_BY_THE_RUNTIME)),
    ).toEqual([]);
  }, 120_000);
});
