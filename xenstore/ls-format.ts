// `xenstore-ls -p` output (and `-f -p`, and plain `xenstore-ls`) read back into a tree of
// nodes with their ACLs. The format is what tools/xs-clients/xenstore_client.c (do_ls,
// sanitise_value) prints and tools/include/xen-tools/xenstore-common.h
// (xenstore_perm_to_string) spells:
//
//   <depth spaces><name> = "<value>"<pad>  (<perm>,<perm>,...)      plain -p
//   <full path> = "<value>"   (<perm>,...)                            -f -p
//   <depth spaces><name>:                                            the value could not be read
//
// * <value> is sanitised, not quoted: printable ASCII stays as it is, *including* '"', spaces
//   and parentheses; "\\" "\t" "\n" "\r" are escaped, bytes below 010 become \ooo and other
//   bytes \xHH. So the closing quote is the last '"' before the padding.
// * <pad> is a space, then '.' and ' ' alternating up to column 60 (none with -f).
// * Without -f and on a line wider than 80 columns (or the terminal), the value is cut to
//   80 - 8 - (indent + name) characters, possibly inside an escape, and "\..." follows, with
//   no padding. A cut right after an escape's backslash prints "\\...", which is also how a
//   value ending in a backslash and "..." prints: at exactly the 80-column cut it is read as
//   a cut, elsewhere as the value.
// * A perm is one of r, w, b, n and a signed decimal domid; the first names the owner and the
//   access of every domain not listed. The perms group is the last "  (" on the line: a value
//   may contain "  (" itself, the perms never do.
// * When the value cannot be read, ":" and a newline are printed and the perms, if readable,
//   follow on the next line as "  (…)". When the perms cannot be read, xenstore-ls warns on
//   stderr: "xenstore-ls: " and, on the next line, "could not access permissions for <name>:
//   <reason>"; captured with 2>&1, those lines land anywhere (stdout is buffered).

import { diagnostic, type Diagnostic, type SourceSpan } from '../core/diagnostics.js';
import { nodePathProblem, XENSTORE_REL_PATH_MAX, type XsPermEntry, type XsPermLetter, type XsPerms } from './access.js';

export interface XsNode {
  /** The last path component; "" for the root. */
  readonly name: string;
  readonly path: string;
  /** The value, escapes decoded (bytes read as UTF-8); absent when xenstore-ls printed ":"
   *  (unreadable) or never printed the node (the root, and the parents of a -f listing). */
  value?: string;
  /** The value exactly as printed between the quotes (sanitised, possibly cut). */
  rawValue?: string;
  /** True when xenstore-ls cut the value to fit the line ("\..."): `value` is only its start. */
  truncated?: boolean;
  /** Absent when no perms were printed (no -p, or they could not be read) or were malformed. */
  perms?: XsPerms;
  readonly children: XsNode[];
  /** The line that printed the node (for a node never printed: the line that implied it). */
  span: SourceSpan;
}

interface XenstoreLs {
  readonly root: XsNode;
  /** "could not access permissions for <name>" lines (stderr mixed into the capture). */
  readonly permissionErrors: readonly { readonly name: string; readonly span: SourceSpan }[];
}

interface XenstoreLsResult {
  readonly result: XenstoreLs;
  readonly diagnostics: Diagnostic[];
}

interface XenstoreLsOptions {
  /** The path that was listed, for output without -f (default "/"). */
  readonly base?: string;
}

const PERM = /^([rwbn])(-?[0-9]+)$/;
/** xenstore_client.c: max_width when stdout is not a terminal, and strlen(" = \"...\""). */
const PIPE_WIDTH = 80;
const TAG_LEN = 8;
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** A name as a message quotes it: its first 60 characters and "…" when it is longer. */
function abbreviate(name: string): string {
  return name.length > 60 ? `${name.slice(0, 60)}…` : name;
}

/** A character for a message: "U+001B", or the character itself when it is printable ASCII. */
function describeCharacter(path: string, index: number): string {
  const cp = path.codePointAt(index) as number;
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp > 0x20 && cp < 0x7f ? `"${String.fromCodePoint(cp)}" (${code})` : code;
}

/** Finds a node by absolute path ("/" is the root). */
export function findXsNode(root: XsNode, path: string): XsNode | undefined {
  if (path === root.path) return root;
  const prefix = root.path === '/' ? '/' : `${root.path}/`;
  if (!path.startsWith(prefix)) return undefined;
  let node: XsNode | undefined = root;
  for (const part of path.slice(prefix.length).split('/')) {
    node = node.children.find((c) => c.name === part);
    if (!node) return undefined;
  }
  return node;
}

/** Every node below `root` (not the root itself), depth first, in listing order. */
export function* walkXsNodes(root: XsNode): Generator<XsNode> {
  const stack = [...root.children].reverse();
  for (let node = stack.pop(); node; node = stack.pop()) {
    yield node;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as XsNode);
  }
}

function joinPath(parent: string, name: string): string {
  return parent.endsWith('/') ? `${parent}${name}` : `${parent}/${name}`;
}

class Reader {
  readonly diagnostics: Diagnostic[] = [];
  readonly permissionErrors: { name: string; span: SourceSpan }[] = [];
  readonly root: XsNode;
  /** Plain output: the node last printed at each depth, the root at index 0. */
  private readonly stack: XsNode[];
  /** Each node's children by name, so placing a node never scans its siblings. */
  private readonly childIndex = new Map<XsNode, Map<string, XsNode>>();
  /** Plain output: nodes refused for their name, kept on the stack so that their children
   *  are dropped with them rather than misplaced. */
  private readonly refused = new WeakSet<XsNode>();
  /** -f output: the paths printed so far. */
  private readonly printed = new Set<string>();
  private mode: 'relative' | 'full' | undefined;
  /** The last node printed as "name:", which the next line's "  (perms)" belongs to. */
  private awaitingPerms: XsNode | undefined;

  constructor(
    private readonly file: string,
    base: string,
  ) {
    this.root = { name: '', path: base, children: [], span: this.span(0, 0) };
    this.stack = [this.root];
  }

  span(start: number, end: number): SourceSpan {
    return { file: this.file, start, end };
  }

  private syntax(start: number, end: number, what: string, help?: string): void {
    this.diagnostics.push(diagnostic('XenstoreLsSyntax', [what], this.span(start, end), help));
  }

  line(text: string, at: number): void {
    const awaiting = this.awaitingPerms;
    this.awaitingPerms = undefined;
    if (text.trim() === '') return;
    const end = at + text.length;

    const noPerms = /^(?:[A-Za-z0-9_.-]+: )?could not access permissions for (\S+?)(?:: .*)?$/.exec(text);
    if (noPerms) {
      this.permissionErrors.push({ name: noPerms[1] as string, span: this.span(at, end) });
      return;
    }
    const stderr = /^xenstore(?:-ls)?: (.*)$/.exec(text);
    if (stderr) {
      const message = stderr[1] as string;
      if (message.trim() !== '') this.syntax(at, end, `it is an error message from xenstore-ls: ${message}`, 'the listing is incomplete');
      return;
    }
    const permsOnly = /^ {2}\(([^()]*)\)$/.exec(text);
    if (permsOnly) {
      if (!awaiting) {
        this.syntax(at, end, 'a permission list without a node', 'xenstore-ls prints perms on a line of their own only after a node whose value it could not read ("name:")');
        return;
      }
      const perms = this.perms(permsOnly[1] as string, at + 3);
      if (perms) awaiting.perms = perms;
      return;
    }
    this.node(text, at, end);
  }

  private node(text: string, at: number, end: number): void {
    let indent = 0;
    while (text.charCodeAt(indent) === 0x20) indent++;
    let head = text.slice(indent);
    let perms: XsPerms | undefined;
    let permsText: string | undefined;
    if (head.endsWith(')')) {
      const open = head.lastIndexOf('  (');
      const inner = open < 0 ? undefined : head.slice(open + 3, -1);
      if (inner === undefined || /[()"]/.test(inner)) {
        this.syntax(at, end, 'the line ends with ")" but has no "  (perms)" group');
        return;
      }
      permsText = inner;
      perms = this.perms(inner, at + indent + open + 3);
      head = head.slice(0, open);
    }

    let name: string;
    let value: { raw: string; offset: number } | undefined;
    const unreadable = /^(\S+):$/.exec(head);
    if (unreadable) {
      name = unreadable[1] as string;
    } else {
      const m = /^(\S+) = "/.exec(head);
      const close = head.lastIndexOf('"');
      if (!m || close < m[0].length || !/^[ .]*$/.test(head.slice(close + 1))) {
        this.syntax(at, end, 'expected `name = "value"`, `name:` or a path in their place', 'the lines of xenstore-ls -p look like: name = "value" . . .  (n0,r5)');
        return;
      }
      name = m[1] as string;
      value = { raw: head.slice(m[0].length, close), offset: at + indent + m[0].length };
    }

    const full = name.startsWith('/');
    this.mode ??= full ? 'full' : 'relative';
    if ((this.mode === 'full') !== full) {
      this.syntax(at, at + indent + name.length, this.mode === 'full' ? 'a relative name in xenstore-ls -f output' : 'a full path in xenstore-ls output without -f', 'list with the same options throughout');
      return;
    }

    const node = full ? this.placeByPath(name, indent, at, end) : this.placeByIndent(name, indent, at, end);
    if (!node) return;
    if (value) {
      // Without -f, a line wider than 80 columns is cut to 80 - 8 - (indent + name) characters.
      const cut = full ? undefined : PIPE_WIDTH - TAG_LEN - indent - name.length;
      const decoded = this.decode(value.raw, value.offset, cut);
      node.value = decoded.value;
      node.rawValue = value.raw;
      if (decoded.truncated) node.truncated = true;
    } else {
      // With -p the perms come on the next line, if at all.
      if (permsText === undefined) this.awaitingPerms = node;
    }
    if (perms) node.perms = perms;
  }

  private childOf(parent: XsNode, name: string): XsNode | undefined {
    return this.childIndex.get(parent)?.get(name);
  }

  private adopt(parent: XsNode, child: XsNode): void {
    parent.children.push(child);
    let index = this.childIndex.get(parent);
    if (!index) this.childIndex.set(parent, (index = new Map()));
    index.set(child.name, child);
  }

  /**
   * A diagnostic when xenstored would refuse `path` (so no real xenstore-ls printed it), placed
   * on the offending character, or on the whole name for a path that is too long. `nameAt` is
   * where the text of `path` from `pathOffset` on starts in the file.
   */
  private refusedPath(path: string, pathOffset: number, nameAt: number, nameEnd: number): boolean {
    const problem = nodePathProblem(path);
    if (!problem) return false;
    if (problem.kind === 'character') {
      const at = nameAt + Math.max(0, problem.index - pathOffset);
      const width = (path.codePointAt(problem.index) as number) > 0xffff ? 2 : 1;
      const next = path.indexOf('/', problem.index);
      const component = path.slice(path.lastIndexOf('/', problem.index) + 1, next < 0 ? undefined : next);
      this.diagnostics.push(
        diagnostic('XenstoreLsBadNodeName', [abbreviate(component), describeCharacter(path, problem.index)], this.span(at, at + width), 'xenstored allows only A-Z a-z 0-9 - _ @ in node names (valid_chars in xenstored_core.c), so no real xenstore-ls output has this name'),
      );
    } else if (problem.kind === 'length') {
      this.diagnostics.push(
        diagnostic('XenstoreLsPathTooLong', [problem.length, problem.limit], this.span(nameAt, nameEnd), `xenstored refuses paths longer than XENSTORE_REL_PATH_MAX (${XENSTORE_REL_PATH_MAX}) after /local/domain/<domid>/ (is_valid_nodename in xenstored_core.c), so no real xenstore-ls output has this node`),
      );
    } else {
      this.syntax(nameAt, nameEnd, `"${path}" is not a node path`);
    }
    return true;
  }

  private placeByIndent(name: string, indent: number, at: number, end: number): XsNode | undefined {
    if (name.includes('/')) {
      this.syntax(at + indent, at + indent + name.length, `"${name}" is not a node name`, 'node names have no "/"; full paths need -f throughout');
      return undefined;
    }
    let depth = indent;
    const deepest = this.stack.length - 1;
    if (depth > deepest) {
      this.diagnostics.push(
        diagnostic('XenstoreLsIndent', [], this.span(at, at + indent), `xenstore-ls indents one space per level; this line is ${indent} deep under a node at depth ${deepest - 1}`),
      );
      depth = deepest;
    }
    const parent = this.stack[depth] as XsNode;
    const node: XsNode = { name, path: joinPath(parent.path, name), children: [], span: this.span(at, end) };
    this.stack.length = depth + 1;
    // Below a refused node everything is dropped with it, without a diagnostic of its own.
    if (this.refused.has(parent) || this.refusedPath(node.path, node.path.length - name.length, at + indent, at + indent + name.length)) {
      this.refused.add(node);
      this.stack.push(node);
      return undefined;
    }
    if (this.childOf(parent, name)) {
      this.syntax(at + indent, at + indent + name.length, `"${name}" is listed twice under ${parent.path}`);
      return undefined;
    }
    this.adopt(parent, node);
    this.stack.push(node);
    return node;
  }

  private placeByPath(path: string, indent: number, at: number, end: number): XsNode | undefined {
    if (indent > 0) {
      this.diagnostics.push(diagnostic('XenstoreLsIndent', [], this.span(at, at + indent), 'xenstore-ls -f does not indent'));
    }
    const pathSpan = (): [number, number] => [at + indent, at + indent + path.length];
    const base = this.root.path;
    const prefix = base.endsWith('/') ? base : `${base}/`;
    if (!path.startsWith(prefix)) {
      this.syntax(...pathSpan(), `${path} is not below the listed path ${base}`);
      return undefined;
    }
    if (path === prefix) {
      this.syntax(...pathSpan(), `"${path}" is not a node path`);
      return undefined;
    }
    // Checked before anything is built: the path is then at most a few KiB long.
    if (this.refusedPath(path, 0, ...pathSpan())) return undefined;
    if (this.printed.has(path)) {
      this.syntax(...pathSpan(), `${path} is listed twice`);
      return undefined;
    }
    this.printed.add(path);
    // The ancestors of the first path listed are never printed: they are implied. Each is
    // found by name under its parent and its path is a prefix of this one, so a path of n
    // components costs O(length), not O(n × length).
    let node = this.root;
    let from = prefix.length;
    while (from <= path.length) {
      const slash = path.indexOf('/', from);
      const to = slash < 0 ? path.length : slash;
      const part = path.slice(from, to);
      let child = this.childOf(node, part);
      if (!child) {
        child = { name: part, path: path.slice(0, to), children: [], span: this.span(at, end) };
        this.adopt(node, child);
      }
      node = child;
      from = to + 1;
    }
    node.span = this.span(at, end);
    return node;
  }

  private perms(text: string, offset: number): XsPerms | undefined {
    const entries: XsPermEntry[] = [];
    let ok = true;
    let pos = offset;
    for (const item of text.split(',')) {
      const m = PERM.exec(item);
      const domid = m ? Number(m[2]) : NaN;
      if (!m || domid < INT_MIN || domid > INT_MAX) {
        this.diagnostics.push(diagnostic('XenstoreLsBadPerm', [item], this.span(pos, pos + item.length), 'xenstore-ls prints each perm as r, w, b or n and a domid, e.g. (n0,r5)'));
        ok = false;
      } else {
        entries.push({ letter: m[1] as XsPermLetter, domid });
      }
      pos += item.length + 1;
    }
    const [first, ...rest] = entries;
    if (!ok || !first) return undefined;
    return { owner: first.domid, default: first.letter, entries: rest };
  }

  /** Undoes sanitise_value: printable ASCII as is, \t \n \r \\ \ooo \xHH; "\..." marks a cut. */
  private decode(raw: string, offset: number, cut: number | undefined): { value: string; truncated: boolean } {
    const bytes: number[] = [];
    const encoder = new TextEncoder();
    let truncated = false;
    let i = 0;
    while (i < raw.length) {
      const c = raw.charCodeAt(i);
      if (c !== 0x5c) {
        if (c < 0x80) bytes.push(c);
        else {
          const ch = String.fromCodePoint(raw.codePointAt(i) ?? c);
          bytes.push(...encoder.encode(ch));
          i += ch.length;
          continue;
        }
        i++;
        continue;
      }
      const rest = raw.slice(i + 1, i + 4);
      const next = raw[i + 1];
      if (i + 1 === cut && raw.length === i + 5 && raw.endsWith('\\...')) {
        // A backslash pair and "..." at the end is either an escaped backslash followed by
        // "..." or a cut right after an escape's backslash; at exactly the 80-column cut it is
        // read as the cut (output captured from a wider terminal is read as the escape).
        truncated = true;
        break;
      }
      if (next === 't' || next === 'n' || next === 'r' || next === '\\') {
        bytes.push(next === 't' ? 9 : next === 'n' ? 10 : next === 'r' ? 13 : 0x5c);
        i += 2;
      } else if (/^[0-7]{3}$/.test(rest)) {
        bytes.push(parseInt(rest, 8) & 0xff);
        i += 4;
      } else if (/^x[0-9a-fA-F]{2}$/.test(rest)) {
        bytes.push(parseInt(rest.slice(1), 16));
        i += 4;
      } else if (raw.endsWith('\\...') && /^\\(?:x[0-9a-fA-F]?|[0-7]{0,2})?\\\.\.\.$|^\\\.\.\.$/.test(raw.slice(i))) {
        // The cut: "\..." after the printed start of the value, which may end inside an escape.
        truncated = true;
        break;
      } else {
        this.syntax(offset + i, offset + i + 2, `"\\${next ?? ''}" is not an escape xenstore-ls prints`, 'xenstore-ls escapes only \\t \\n \\r \\\\, \\ooo and \\xHH');
        bytes.push(0x5c);
        i++;
      }
    }
    return { value: new TextDecoder('utf-8').decode(new Uint8Array(bytes)), truncated };
  }
}

/**
 * Parses what `xenstore-ls -p` (or `-f -p`) printed. Never throws; every diagnostic has a
 * span. Without -f the names are placed under `options.base` (default "/").
 */
export function parseXenstoreLs(file: string, text: string, options: XenstoreLsOptions = {}): XenstoreLsResult {
  const reader = new Reader(file, options.base ?? '/');
  let at = 0;
  while (at <= text.length) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    let line = text.slice(at, nl);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    reader.line(line, at);
    at = nl + 1;
  }
  const diagnostics = reader.diagnostics.sort((a, b) => (a.span?.start ?? 0) - (b.span?.start ?? 0));
  return { result: { root: reader.root, permissionErrors: reader.permissionErrors }, diagnostics };
}
