// The one string order vmipolicy sorts by: Unicode code points, never the locale.
// The locale-aware comparisons of JavaScript follow LANG/LC_ALL, so the same input sorted under
// da_DK and en_US gives different bytes; JavaScript's `<` compares UTF-16 code units,
// which puts U+E000..U+FFFF after astral characters. Code-point order is what `LC_ALL=C sort`
// (and setools' output) uses for UTF-8 text.

/** Negative, zero or positive as `a` sorts before, equal to or after `b` in code-point order. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  return codeUnitRank(a.charCodeAt(i)) - codeUnitRank(b.charCodeAt(i));
}

/**
 * Surrogates (U+D800..U+DFFF) encode code points above U+FFFF, so they must rank after
 * every BMP unit from U+E000 on: shift them up, and U+E000..U+FFFF down, by 0x800.
 */
function codeUnitRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}
