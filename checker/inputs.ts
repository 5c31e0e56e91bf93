// The deployment around the policy, as the checker sees it: the labels the domains run with
// (xl configs) and the xenstore ACLs (a `xenstore-ls -p` dump). Parsing is the grammar's;
// here they become plain data with the line behind every fact.

import { diagnostic, hasErrors, type Diagnostic, type SourceSpan } from '../core/diagnostics.js';
import { parseXlConfig } from '../formats/xl-config.js';
import { parseXenstoreLs, walkXsNodes } from '../xenstore/ls-format.js';
import { type XsPerms } from '../xenstore/access.js';
import { sourceText, positionAt, type SourceText } from '../core/source.js';
import type { Location } from './findings.js';
import { parseContext, type SecurityContext } from '../policy/model/access.js';

export type { SecurityContext };

export interface XlLabel {
  readonly file: string;
  /** The domain's name= (or, for a compiled snippet, the domain it was written for). */
  readonly name?: string;
  /** seclabel= as written; absent when the config sets none. */
  readonly seclabel?: string;
  readonly context?: SecurityContext;
  readonly at: Location;
}

export interface XenstoreNodeAcl {
  readonly path: string;
  readonly perms: XsPerms;
  readonly value?: string;
  readonly at: Location;
}

export interface XenstoreState {
  readonly file: string;
  readonly nodes: ReadonlyMap<string, XenstoreNodeAcl>;
  /** domid → name, from /local/domain/<id>/name. */
  readonly names: ReadonlyMap<number, string>;
}

function location(source: SourceText, span: SourceSpan, kind: Location['kind']): Location {
  const p = positionAt(source, span.start);
  return { file: span.file, line: p.line, column: p.column, kind };
}

/** An xl config's label. `domain` names the domain when the file has no name= (our snippets). */
export function readXlLabel(file: string, text: string, domain?: string): { label?: XlLabel; diagnostics: Diagnostic[] } {
  const { result, diagnostics } = parseXlConfig(file, text);
  if (hasErrors(diagnostics)) return { diagnostics };
  const source = sourceText(file, text);
  const setting = result.settings.get('seclabel');
  const at = setting ? location(source, setting.span, 'xl') : { file, line: 1, column: 1, kind: 'xl' as const };
  const name = result.name ?? domain;
  const context = result.seclabel ? parseContext(result.seclabel) : undefined;
  return {
    label: { file, ...(name !== undefined ? { name } : {}), ...(result.seclabel !== undefined ? { seclabel: result.seclabel } : {}), ...(context ? { context } : {}), at },
    diagnostics,
  };
}

/** The checker's view of a store: ACLs by path, and the domain names /local/domain/<id>/name hold. */
export function xenstoreState(file: string, nodes: Iterable<XenstoreNodeAcl>): XenstoreState {
  const byPath = new Map<string, XenstoreNodeAcl>();
  const names = new Map<number, string>();
  for (const node of nodes) {
    byPath.set(node.path, node);
    const m = /^\/local\/domain\/(\d+)\/name$/.exec(node.path);
    if (m && node.value !== undefined) names.set(Number(m[1]), node.value);
  }
  return { file, nodes: byPath, names };
}

export function readXenstoreDump(file: string, text: string): { state?: XenstoreState; diagnostics: Diagnostic[] } {
  const { result, diagnostics } = parseXenstoreLs(file, text, {});
  if (hasErrors(diagnostics)) return { diagnostics };
  const source = sourceText(file, text);
  const nodes: XenstoreNodeAcl[] = [];
  for (const node of walkXsNodes(result.root)) {
    if (node.perms) nodes.push({ path: node.path, perms: node.perms, ...(node.value !== undefined ? { value: node.value } : {}), at: location(source, node.span, 'xenstore') });
  }
  // `xenstore-ls` without -p (or an empty file) parses, but says nothing about who may read
  // what: checking against it would prove the ACLs from no evidence at all.
  if (nodes.length === 0) return { diagnostics: [...diagnostics, diagnostic('CheckXenstoreKind', [file])] };
  return { state: xenstoreState(file, nodes), diagnostics };
}
