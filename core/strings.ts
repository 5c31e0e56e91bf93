// Strings that outlive the text they were read from. V8 represents a substring of 13 or more
// characters as a view into its parent (a sliced string), so one type name kept from a
// 40 MB policy.conf keeps all 40 MB alive: the policy model outlives the text and the parse
// tree (the simulated host holds it through a whole self-test), so the names it keeps must
// be copies.

/** `s` as a string of its own, not a view into a larger one. */
export function ownCopy(s: string): string {
  // Shorter substrings are copied by V8 already; a JSON round trip always yields a new
  // sequential string.
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}
