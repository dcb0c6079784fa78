// Rows read from the database bring their own copy of every string, so a column with a handful of
// values (a role, a status, a connection's id) costs a copy per row for as long as the rows' objects
// live: at a million members or users, a plan held some 100-200 MiB of such copies.

/** A function that returns one copy of each value it is given: the first it saw equal to it. */
export function oneCopyEach(): <T extends string | null>(value: T) => T {
  const seen = new Map<string | null, string | null>();
  return <T extends string | null>(value: T): T => {
    const known = seen.get(value);
    if (known !== undefined) return known as T;
    seen.set(value, value);
    return value;
  };
}
