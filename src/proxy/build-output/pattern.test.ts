import { describe, expect, test } from "bun:test";
import { compilePattern, type Pattern } from "./pattern.ts";

function compiled(source: string, ignoreCase = false): Pattern {
  const pattern = compilePattern(source, { ignoreCase });
  if (typeof pattern === "string") throw new Error(`refused ${source}: ${pattern}`);
  return pattern;
}

/** What JavaScript's RegExp answers, in the same shape. */
function native(source: string, input: string, ignoreCase = false): (string | undefined)[] | null {
  const found = new RegExp(source, ignoreCase ? "i" : "").exec(input);
  return found ? [...found] : null;
}

/** Our answer against RegExp's: all groups when the pattern is `exact`, else whether and where it matches. */
function agrees(pattern: Pattern, input: string, ignoreCase: boolean): string | null {
  const expected = new RegExp(pattern.source, ignoreCase ? "i" : "").exec(input);
  const actual = pattern.exec(input);
  if ((expected === null) !== (actual === null)) return `match ${actual !== null} vs ${expected !== null}`;
  if (expected === null || actual === null) return null;
  if (expected.index !== actual.index) return `index ${actual.index} vs ${expected.index}`;
  if (pattern.exact && JSON.stringify(actual.groups) !== JSON.stringify([...expected]))
    return `groups ${JSON.stringify(actual.groups)} vs ${JSON.stringify([...expected])}`;
  return null;
}

describe("pattern: the same answers as RegExp", () => {
  const cases: [string, string, boolean?][] = [
    ["^/_app/immutable/.+$", "/_app/immutable/chunks/a.js"],
    ["^/_app/immutable/.+$", "/_app/immutable/"],
    ["^/blog/([^/]+?)/?(?:/__data.json)?$", "/blog/hello/__data.json"],
    ["^/blog/([^/]+?)/?(?:/__data.json)?$", "/blog/hello/"],
    ["^/?(?:/__data.json)?$", "/"],
    ["^(?<__isr_route>/isr)$", "/isr"],
    ["^/(?<lang>[a-z]{2})/(?<rest>.*)$", "/fr/docs/intro"],
    ["^/(a|ab)(c|bcd)(d*)$", "/abcd"],
    ["(a*)*b", "aaab"],
    ["(?:(a)|b)+", "ab"],
    ["(a)|b", "b"],
    ["^/(.*?)(\\.html)?$", "/about.html"],
    ["^/(.*)\\.html/?$", "/docs/page.html/"],
    ["^/((?:[^/]+/)*[^/\\.]+)$", "/a/b/c"],
    ["^/(?:(.+)/)?index(?:\\.html)?/?$", "/docs/index.html"],
    ["^/(?!_next/|api/)(.*)$", "/api/x"],
    ["^/(?!_next/|api/)(.*)$", "/about"],
    ["^/(?=abc)(a)", "/abcd"],
    ["^/ABOUT$", "/about", true],
    ["^/[a-c]+$", "/ABC", true],
    ["^/[^a]$", "/A", true],
    ["\\bfoo\\b", "a foo b"],
    ["\\Bfoo", "afoo"],
    ["^/x{2,3}?", "/xxxx"],
    ["^/x{2,}", "/xxxxx"],
    ["a{,2}", "a{,2}"],
    ["[\\d-]+", "12-3"],
    ["[^\\W_]+", "ab_cd"],
    ["^\\/api\\/(.*)$", "/api/v1"],
    ["/old", "/older/old"],
    ["^/a|/b$", "/xx/b"],
    ["\\x41\\u0042", "AB"],
    ["[]", "a"],
    ["[^]", "\n"],
    ["^$", ""],
    ["caf\u00e9", "/caf\u00c9", true],
    ["^/kelvin$", "/\u212aelvin", true],
    ["^/(?!_next/)p1/(.*)\\.html$", "/P1/a.HTML", true],
    ["^/(?!_next/)p1/(.*)\\.html$", "/p1/a.htm", true],
  ];
  for (const [source, input, ignoreCase] of cases) {
    test(`${source} on ${JSON.stringify(input)}${ignoreCase ? " (i)" : ""}`, () => {
      const found = compiled(source, ignoreCase).exec(input);
      expect(found?.groups ?? null).toEqual(native(source, input, ignoreCase));
    });
  }

  test("named groups, also in PCRE's (?P<name>...) form", () => {
    expect(compiled("^/(?<slug>[^/]+)$").exec("/post")?.named).toEqual({ slug: "post" });
    expect(compiled("^/(?P<slug>[^/]+)$").exec("/post")?.named).toEqual({ slug: "post" });
    expect(compiled("^/(?<a>x)?(?<b>y)$").exec("/y")?.named).toEqual({ a: undefined, b: "y" });
  });

  test("a loop over something that can match empty is flagged inexact (captures may differ, matching not)", () => {
    expect(compiled("^/(a*?)+$").exact).toBe(false);
    expect(compiled("^/(a+)+$").exact).toBe(true);
    expect(agrees(compiled("(^(a*?)+)"), "aa1", false)).toBeNull();
  });

  // Random patterns over a small alphabet, checked against RegExp on short inputs (where backtracking is cheap).
  test("random patterns and inputs agree with RegExp", () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const atoms = [
      "a",
      "b",
      "-",
      "/",
      ".",
      "[ab]",
      "[^a]",
      "\\w",
      "\\d",
      "(a)",
      "(?:ab)",
      "(a|b)",
      "(a|ab)",
      "(?=a)",
      "(?!b)",
    ];
    const quantifiers = ["", "", "", "*", "+", "?", "*?", "+?", "??", "{1,2}", "{2}"];
    const pattern = (depth: number): string => {
      let out = "";
      const length = 1 + random(4);
      for (let i = 0; i < length; i++) {
        const atom =
          depth < 2 && random(4) === 0
            ? `(${pattern(depth + 1)}${random(2) ? `|${pattern(depth + 1)}` : ""})`
            : (atoms[random(atoms.length)] as string);
        const q = /^\(\?[=!]/.test(atom) ? "" : (quantifiers[random(quantifiers.length)] as string);
        out += atom + q;
      }
      return (random(3) === 0 ? "^" : "") + out + (random(3) === 0 ? "$" : "");
    };
    const alphabet = ["a", "b", "-", "/", "1", "A"];
    let compared = 0;
    for (let i = 0; i < 3000; i++) {
      const source = pattern(0);
      const ignoreCase = random(2) === 0;
      const ours = compiled(source, ignoreCase);
      for (let j = 0; j < 5; j++) {
        let input = "";
        for (let k = random(9); k > 0; k--) input += alphabet[random(alphabet.length)];
        const differs = agrees(ours, input, ignoreCase);
        if (differs)
          throw new Error(`/${source}/${ignoreCase ? "i" : ""} on ${JSON.stringify(input)}: ${differs}`);
        compared++;
      }
    }
    expect(compared).toBe(15000);
  });
});

describe("pattern: refused syntax, named", () => {
  const refused: [string, RegExp][] = [
    ["^/(a)\\1$", /backreferences/],
    ["^/(?<=a)b", /lookbehind/],
    ["\\A/x", /unsupported escape \\A/],
    ["^/\\p{L}+$", /unsupported escape \\p/],
    ["a++", /nothing to repeat/],
    ["[[:alpha:]]", /POSIX/],
    ["a{1001}", /repetition count above 1000/],
    ["(?i)abc", /unsupported group syntax/],
    ["(?>a)", /unsupported group syntax/],
    ["(a", /unterminated group/],
    ["a)", /unmatched \)/],
    ["[b-a]", /out of order/],
    ["*a", /nothing to repeat/],
    ["(?<x>a)(?<x>b)", /duplicate group name/],
    ["(?:a{1000}){1000}", /too complex/],
    ["x".repeat(4097), /longer than 4096/],
  ];
  for (const [source, reason] of refused) {
    test(source.slice(0, 40), () => {
      const result = compilePattern(source, { ignoreCase: false });
      expect(typeof result).toBe("string");
      expect(result as string).toMatch(reason);
    });
  }
});

describe("pattern: linear time on hostile input", () => {
  const hostile: [string, string][] = [
    ["^(a+)+$", `${"a".repeat(20_000)}b`],
    ["^(a|a)*$", `${"a".repeat(20_000)}b`],
    ["^(.*)-(.*)-(.*)-(.*)x$", "-".repeat(1024)],
    ["(x+x+)+y", "x".repeat(5000)],
    ["^(?=(a+)+$)b", `${"a".repeat(5000)}!`],
  ];
  for (const [source, input] of hostile) {
    test(source, () => {
      const started = performance.now();
      expect(compiled(source).exec(input)).toBeNull();
      expect(performance.now() - started).toBeLessThan(2000);
    });
  }
});
