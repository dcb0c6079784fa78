// SCIM filters as Entra and Okta send them, made acceptable to a strict filter parser.
// Bare-word values come from the Entra doc's Example 1 (`externalId eq jyoung`); scim2-parse-filter
// rejects them and scimmy misreads `active eq True` (scimmy 1.3.5 reads the bare word True as false).

export type FilterTokenKind = "space" | "word" | "string" | "open" | "close" | "openBracket" | "closeBracket";

/** One lexical piece of a filter; the texts of all tokens concatenate back to the input exactly. */
export interface FilterToken {
  readonly kind: FilterTokenKind;
  readonly text: string;
}

/** Produces the replacement text for a comparison value; `attribute` is the path compared (e.g. `emails.primary`). */
export type ComparisonValueRewrite = (value: FilterToken, attribute: string) => string;

const PUNCTUATION = new Map<string, FilterTokenKind>([
  ["(", "open"],
  [")", "close"],
  ["[", "openBracket"],
  ["]", "closeBracket"],
]);
const COMPARISON_OPERATORS = new Set(["eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le"]);
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const LITERALS = new Set(["true", "false", "null"]);

const isSpace = (c: string): boolean => /\s/.test(c);
const endsWord = (c: string): boolean => isSpace(c) || c === '"' || PUNCTUATION.has(c);

// Entra/Okta filters and PATCH paths: splits on spaces, parentheses, brackets and quoted strings (with `\"` escapes).
export function tokenizeFilter(filter: string): FilterToken[] {
  const tokens: FilterToken[] = [];
  let i = 0;
  while (i < filter.length) {
    const start = i;
    const first = filter.charAt(i);
    let kind = PUNCTUATION.get(first);
    if (kind !== undefined) {
      i += 1;
    } else if (isSpace(first)) {
      kind = "space";
      while (i < filter.length && isSpace(filter.charAt(i))) i += 1;
    } else if (first === '"') {
      kind = "string";
      i += 1;
      while (i < filter.length && filter.charAt(i) !== '"') i += filter.charAt(i) === "\\" ? 2 : 1;
      i = Math.min(i + 1, filter.length); // an unterminated string runs to the end, left as sent
    } else {
      kind = "word";
      while (i < filter.length && !endsWord(filter.charAt(i))) i += 1;
    }
    tokens.push({ kind, text: filter.slice(start, i) });
  }
  return tokens;
}

type Expecting = "attribute" | "operator" | "value" | "logical" | "afterValueFilter";

// Entra/Okta filters: rewrites only the token after a comparison operator; everything else is copied verbatim.
export function rewriteComparisonValues(filter: string, rewrite: ComparisonValueRewrite): string {
  let expecting: Expecting = "attribute";
  let attribute = "";
  const outerAttributes: string[] = [];
  let out = "";
  for (const token of tokenizeFilter(filter)) {
    const lower = token.text.toLowerCase();
    let text = token.text;
    switch (token.kind) {
      case "space":
        break;
      case "open":
        expecting = "attribute";
        break;
      case "close":
        expecting = "logical";
        break;
      case "openBracket":
        outerAttributes.push(attribute);
        expecting = "attribute";
        break;
      case "closeBracket":
        attribute = outerAttributes.pop() ?? "";
        expecting = "afterValueFilter";
        break;
      case "string":
        if (expecting === "value") text = rewrite(token, attribute);
        expecting = "logical";
        break;
      case "word":
        if (expecting === "attribute" && lower !== "not") {
          attribute = token.text;
          expecting = "operator";
        } else if (expecting === "operator") {
          expecting = COMPARISON_OPERATORS.has(lower) ? "value" : "logical";
        } else if (expecting === "value") {
          text = rewrite(token, attribute);
          expecting = "logical";
        } else if (expecting === "afterValueFilter" && token.text.startsWith(".")) {
          attribute += token.text;
          expecting = "operator";
        } else if (lower === "and" || lower === "or") {
          expecting = "attribute";
        }
        break;
    }
    out += text;
  }
  return out;
}

// Entra doc Example 1 (`externalId eq jyoung`): quotes a bare word; keeps numbers and true/false/null (any case → lower).
export function normaliseBareValue(word: string): string {
  const lower = word.toLowerCase();
  if (LITERALS.has(lower)) return lower;
  if (JSON_NUMBER.test(word)) return word;
  return JSON.stringify(word);
}

/**
 * Entra/Okta GET filters: quotes bare-word comparison values (`userName sw O` → `userName sw "O"`), turns
 * `True`/`False` into `true`/`false`; quoted strings, attribute paths, operators, `not`, `pr`, parentheses
 * and brackets are returned byte for byte.
 */
export function normaliseFilterExpression(filter: string): string {
  return rewriteComparisonValues(filter, (value) => (value.kind === "word" ? normaliseBareValue(value.text) : value.text));
}
