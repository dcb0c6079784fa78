// A piece of parameterized SQL: user input only ever travels in `bindings`.
export interface SqlFragment {
  readonly sql: string;
  readonly bindings: readonly unknown[];
}

export const sql = (text: string, ...bindings: unknown[]): SqlFragment => ({ sql: text, bindings });

export function joinFragments(parts: readonly SqlFragment[], separator: string): SqlFragment {
  return { sql: parts.map((p) => `(${p.sql})`).join(separator), bindings: parts.flatMap((p) => p.bindings) };
}

/** Quotes a schema-defined name (never user input) as an SQL string literal. */
export function sqlLiteral(name: string): string {
  if (!/^[A-Za-z0-9_$:.\-]+$/.test(name)) throw new Error(`unexpected attribute name ${JSON.stringify(name)}`);
  return `'${name}'`;
}

/** Escapes LIKE wildcards so a `co`/`sw`/`ew` value matches literally. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
