// The `fields` partial-response parameter of Google APIs, so the fake answers only what was asked for
// (`nextPageToken,users(id,name(givenName),emails)`, `items/id`): a client that forgets a field it
// reads must fail here as it would against Google.

/** Selected keys; `null` keeps the whole value under that key. */
export type FieldTree = Map<string, FieldTree | null>;

/** Parses a fields expression; throws on unbalanced parentheses or empty names. */
export function parseFields(spec: string): FieldTree {
  let at = 0;
  function list(): FieldTree {
    const tree: FieldTree = new Map();
    for (;;) {
      const path: string[] = [];
      for (;;) {
        const name = /^[A-Za-z0-9_$@.-]+|^\*/.exec(spec.slice(at))?.[0];
        if (!name) throw new Error(`Invalid field selection at ${at}`);
        path.push(name);
        at += name.length;
        if (spec[at] !== "/") break;
        at += 1;
      }
      let leaf: FieldTree | null = null;
      if (spec[at] === "(") {
        at += 1;
        leaf = list();
        if (spec[at] !== ")") throw new Error(`Invalid field selection at ${at}`);
        at += 1;
      }
      mergePath(tree, path, leaf);
      if (spec[at] !== ",") return tree;
      at += 1;
    }
  }
  const tree = list();
  if (at !== spec.length) throw new Error(`Invalid field selection at ${at}`);
  return tree;
}

function mergePath(tree: FieldTree, path: string[], leaf: FieldTree | null): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    const existing = tree.get(head);
    tree.set(head, existing === null || leaf === null ? null : mergeTrees(existing ?? new Map(), leaf));
    return;
  }
  const existing = tree.get(head);
  if (existing === null) return;
  const child = existing ?? new Map();
  mergePath(child, rest, leaf);
  tree.set(head, child);
}

function mergeTrees(a: FieldTree, b: FieldTree): FieldTree {
  const out = new Map(a);
  for (const [key, value] of b) {
    const prev = out.get(key);
    out.set(key, prev === null || value === null ? null : mergeTrees(prev ?? new Map(), value));
  }
  return out;
}

/** Keeps only the selected keys; arrays are selected item by item. */
export function selectFields(value: unknown, tree: FieldTree): unknown {
  if (Array.isArray(value)) return value.map((item) => selectFields(item, tree));
  if (value === null || typeof value !== "object") return value;
  if (tree.has("*")) return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of tree) {
    if (!(key in source)) continue;
    out[key] = sub === null ? source[key] : selectFields(source[key], sub);
  }
  return out;
}
