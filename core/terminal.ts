// Untrusted text on a terminal. Strings that came from an input — a task's comm read from
// guest memory, a file name in a #line marker, a xenstore node name, a key of a JSON
// profile, a spec's description, a message quoting any of them — can hold bytes that a
// terminal obeys rather than shows: ESC sequences that clear the screen or rewrite earlier
// lines, a newline that forges a verdict line, C1 controls (U+009B is a one-byte CSI on
// many terminals), and Unicode format characters that reorder or hide text for the reader
// (the bidi overrides of CVE-2021-42574 "Trojan Source", zero-width characters).
// Every text renderer passes such strings through `terminalSafe` when it prints them; JSON
// output keeps the exact data, since JSON escaping already makes controls harmless.

/**
 * What a terminal must not receive as is: the escape character itself (so the rendering
 * stays one-to-one), controls (C0, DEL, C1: \p{Cc}), invisible format characters (bidi
 * embeddings, overrides and isolates, zero-width joiners, soft hyphen, tags: \p{Cf}), the
 * line and paragraph separators, and lone surrogates (which UTF-8 output would turn into
 * U+FFFD, merging distinct strings).
 */
const UNSAFE = /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const SHORT: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The visible escape of one unsafe code point: \n, \x1b, \u202e, \u{e0041}. */
function visibleEscape(ch: string): string {
  const short = SHORT[ch];
  if (short !== undefined) return short;
  const cp = ch.codePointAt(0) as number;
  const hex = cp.toString(16);
  if (cp < 0x100) return `\\x${hex.padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${hex.padStart(4, '0')}`;
  return `\\u{${hex}}`;
}

/**
 * `s` as a terminal may show it: every unsafe code point becomes a visible escape in
 * JavaScript's notation, and a backslash becomes "\\", so distinct strings stay distinct.
 */
export function terminalSafe(s: string): string {
  return s.replace(UNSAFE, visibleEscape);
}
