// The one escape for every input-derived string that reaches an HTML report: policy text,
// `#line` file names, type and domain names, xenstore paths, avc lines, guest data. The five
// characters HTML gives a meaning to in text and in quoted attribute values become entities
// (the HTML standard's tokenizer: `<` opens a tag, `&` a character reference,
// `"` and `'` end an attribute value, `>` ends a tag in an unquoted context), so the text is
// shown as written and never read as markup. Control characters (except tab and line feed),
// the Unicode line and paragraph separators, the bidirectional embeddings, overrides and
// isolates that make text read other than it is, and lone surrogates (which have no UTF-8
// form) become U+FFFD.

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const UNSHOWABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function html(s: string): string {
  return s.replace(UNSHOWABLE, '\uFFFD').replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}
