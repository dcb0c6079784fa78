// Why a filter does not parse, in the words of RFC 7644 §3.4.2.2 rather than the parser library's
// (whose messages name its tokens: "[(EOT)] is not json"). The parser decides that the filter is
// invalid; this only says the most likely reason, checked in the order people make the mistakes.
const OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"];
const VALUE_OPERATORS = OPERATORS.filter((o) => o !== "pr");

/** Words outside quoted strings, with brackets as words of their own. */
function words(expression: string): string[] {
  const bare = expression.replace(/"(?:[^"\\]|\\.)*"/g, " \"…\" ");
  return bare.replace(/([()[\]])/g, " $1 ").split(/\s+/).filter(Boolean);
}

export function filterSyntaxReason(expression: string): string {
  const parts = words(expression);
  const lower = parts.map((w) => w.toLowerCase());
  if ((expression.match(/"/g)?.length ?? 0) % 2 === 1) return "a quoted value is not closed";
  const count = (c: string) => parts.filter((w) => w === c).length;
  if (count("(") !== count(")")) return "its parentheses do not pair up";
  if (count("[") !== count("]")) return "its brackets [ ] do not pair up";
  const last = lower.at(-1) ?? "";
  if (last === "and" || last === "or" || last === "not") return `it ends with "${parts.at(-1)}" and nothing after it`;
  for (let i = 0; i < lower.length; i++) {
    const next = lower[i + 1];
    if (VALUE_OPERATORS.includes(lower[i]!) && (next === undefined || next === "]" || next === ")" || next === "and" || next === "or")) {
      return `the comparison "${parts.slice(Math.max(0, i - 1), i + 1).join(" ")}" has no value (e.g. userName eq "ann@example.com")`;
    }
  }
  const unknown = lower.find((w, i) => /^[a-z]{2}$/.test(w) && !OPERATORS.includes(w) && lower[i - 1] !== undefined && !["and", "or", "not", "(", "["].includes(lower[i - 1]!) && !OPERATORS.includes(lower[i - 1]!));
  if (unknown) return `"${unknown}" is not a SCIM operator (${OPERATORS.join(", ")})`;
  return `expected comparisons of the form attribute operator value (${OPERATORS.join(", ")}), joined by and, or, not and parentheses`;
}
