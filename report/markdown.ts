// Markdown escaping for GitHub: one home for every markdown document vmipolicy writes (the
// diff's pull-request comment, explain's, and the failure document of `--format markdown`).
// Apart from the diff's renderer (report/diff/markdown.ts) so that a command which only
// escapes — the CLI's failure document — does not load the whole diff report.

/**
 * The one escape for every input-derived string (names, labels, file names from `#line`
 * markers, conditions, messages): what GitHub renders is the text as written, nothing it
 * would interpret. CommonMark lets a backslash escape any ASCII punctuation, so every one
 * is escaped — HTML tags, entities, links, images, emphasis, headings, lists, tables, code
 * spans and fences. GitHub's mentions (`@org/team`), issue references (`#12`) and extended
 * autolinks (`https://…`, `www.…`) are recognised in the rendered text, after escapes are
 * undone, so a WORD JOINER (U+2060, invisible) is put after `@`, `#` and `:` and inside
 * `www.` to break them. Line breaks and tabs become spaces (a cell is one line); other
 * control characters, and the bidirectional overrides that make text read other than it
 * is, become U+FFFD.
 */
export function md(s: string): string {
  let out = '';
  for (const ch of s.replace(/[\r\n\t]+/g, ' ').replace(UNPRINTABLE, '\uFFFD')) {
    if (ASCII_PUNCTUATION.test(ch)) out += `\\${ch}`;
    else out += ch;
    if (ch === '@' || ch === '#' || ch === ':') out += WORD_JOINER;
  }
  return out.replace(/(w)(w)(w)(\\\.)/gi, `$1$2$3${WORD_JOINER}$4`);
}

const WORD_JOINER = '\u2060';
const ASCII_PUNCTUATION = /^[!-/:-@[-`{-~]$/;
/** C0 and C1 controls, DEL, line/paragraph separators, bidirectional embeddings, overrides and isolates. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
