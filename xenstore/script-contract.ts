// What the xenstore ACL scripts may contain, stated once for the two sides that must agree:
// the compiler writes these exact lines into xenstore-acl.sh (compiler/emit/xenstore.ts), and
// the interpreter that applies a script to a store (xenstore/acl-script.ts) accepts exactly
// these lines and nothing else. A root-run script must not let its environment choose what
// runs, and must never pass xenstore-chmod anything but a domid of a running domain.

/** Single-quotes a word for sh. Names are validated already; this is the second fence. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Root's usual PATH: directories only root can write, where Debian's and Xen's own installs put xl and xenstore-chmod. */
export const SCRIPT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The script's own environment, right after `set -eu`. Exported because xenstore/acl-script.ts
 * accepts exactly these lines. `unset -f` drops functions bash imports from BASH_FUNC_*
 * variables (as sh too), which would otherwise shadow the programs; LC_ALL=C keeps the
 * domid patterns' [0-9] ranges to ASCII digits in any shell.
 */
export const SCRIPT_ENVIRONMENT: readonly string[] = [
  'unset -f echo xl xenstore-chmod',
  `PATH=${SCRIPT_PATH}`,
  'LC_ALL=C',
  'export PATH LC_ALL',
];

/**
 * Xen's first reserved domid (DOMID_FIRST_RESERVED = 0x7FF0, xen/include/public/xen.h):
 * domains have 0 to 0x7FEF. Anything else `xl domid` might print — 4294967306, which
 * xenstore-chmod's atoi turns into 10, "007", "-1" — would grant some other domain.
 */
export const DOMID_FIRST_RESERVED = 0x7ff0;

/** A domid written as `xl domid` writes one: decimal, no sign, no leading zero, below DOMID_FIRST_RESERVED. */
export function isDomidText(text: string): boolean {
  return /^(?:0|[1-9][0-9]{0,4})$/.test(text) && Number(text) < DOMID_FIRST_RESERVED;
}

/**
 * The sh function that turns a domain name into its domid: the case patterns are exactly
 * isDomidText (0 to 32751 as digits, no leading zero), checked against it in
 * test/vmi-xenstore-script.test.ts. Exported because xenstore/acl-script.ts accepts exactly
 * these lines and nothing else.
 */
export const DOMID_FUNCTION: readonly string[] = [
  'domid() {',
  '\tid=$(xl domid "$1") || { echo "vmipolicy: domain \'$1\' is not running" >&2; exit 1; }',
  '\tcase $id in',
  '\t\t0 | [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | [1-9][0-9][0-9][0-9] | [12][0-9][0-9][0-9][0-9] | 3[01][0-9][0-9][0-9] | 32[0-6][0-9][0-9] | 327[0-4][0-9] | 3275[01]) ;;',
  `\t\t*) echo "vmipolicy: 'xl domid $1' printed '$id', not a domid (0 to ${DOMID_FIRST_RESERVED - 1})" >&2; exit 1 ;;`,
  '\tesac',
  '\techo "$id"',
  '}',
];
