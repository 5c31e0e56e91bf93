// What one self-test operation did: every hypercall result (with its FLASK checks) and every
// xenstore request, and how it ended — allowed (every call went through and every content
// check held), denied (the AVC refused a call with -EACCES, a listing skipped the domain,
// or xenstored answered EACCES), failed (anything else: a content check, another errno),
// or blocked (an operation it depends on did not succeed, so it could not run).

import type { CallResult } from '../host/hypercalls.js';
import type { XsResult } from '../../xenstore/store.js';

export type Actual = 'allowed' | 'denied' | 'failed' | 'blocked';

export interface XenstoreRecord {
  readonly caller: number;
  readonly op: 'read' | 'directory' | 'write' | 'set-perms';
  readonly path: string;
  /** "ok", or the error xenstored answered. */
  readonly result: string;
}

export class Recorder {
  readonly calls: CallResult<unknown>[] = [];
  readonly xenstore: XenstoreRecord[] = [];
  private end: { actual: Exclude<Actual, 'allowed'>; detail: string } | undefined;
  private notes: string[] = [];

  /** Records a hypercall; false when it failed (the first failure decides the outcome). */
  call<T>(r: CallResult<T>): r is CallResult<T> & { ok: true } {
    this.calls.push(r as CallResult<unknown>);
    if (r.ok) return true;
    if (r.errno === 'EACCES') this.deny(`${r.call}: ${r.why ?? 'EACCES'}`);
    else this.fail(`${r.call}: ${r.errno ?? 'error'}${r.why ? ` (${r.why})` : ''}`);
    return false;
  }

  /** Records a xenstore request; false when xenstored refused it. */
  xs<T>(caller: number, op: XenstoreRecord['op'], path: string, r: XsResult<T>): r is { ok: true; value: T } {
    this.xenstore.push({ caller, op, path, result: r.ok ? 'ok' : r.error });
    if (r.ok) return true;
    if (r.error === 'EACCES') this.deny(`xenstore ${op} ${path}: EACCES`);
    else this.fail(`xenstore ${op} ${path}: ${r.error}`);
    return false;
  }

  deny(detail: string): void {
    this.end ??= { actual: 'denied', detail };
  }

  fail(detail: string): void {
    this.end ??= { actual: 'failed', detail };
  }

  block(detail: string): void {
    this.end ??= { actual: 'blocked', detail };
  }

  /** A fact worth showing even when all went well (pages read, the event received…). */
  note(text: string): void {
    this.notes.push(text);
  }

  get failed(): boolean {
    return this.end !== undefined;
  }

  outcome(): { actual: Actual; detail: string } {
    return this.end ?? { actual: 'allowed', detail: this.notes.join('; ') };
  }
}
