// The vmipolicy command line. Thin: argument parsing, files, exit codes and rendering;
// every command is a library call. Exit codes: 0 success, 1 findings, 2 bad input or usage.
// Each command's module is imported only when that command runs: `--version`, `--help` and a
// mistyped command load none of the grammar, schema or checker (start-up is most of a small run).
// So are the argument parser, the failure documents of the machine formats (cli/machine.ts)
// and the Xen vocabulary the help's last line names the releases from: `--version` loads
// none of them, and starts within a few milliseconds of Node itself.

import { VERSION } from '../compiler/version.js';
import { EXIT_OK, EXIT_USAGE } from '../api/exit.js';
import type { Io } from './io.js';
import type { ParsedArgs } from './args.js';

/** The help, naming the Xen releases vmipolicy knows (catalog/vocabulary.ts's XEN_RELEASES). */
const usage = (releases: readonly string[]): string => `vmipolicy ${VERSION} — least-privilege Xen XSM/FLASK policies for VM introspection

Usage:
  vmipolicy verify SPEC [--xen-tree DIR] [--format text|json|html]
      The main job: compile SPEC, prove least privilege (check), and run the embedded VMI
      core against a simulated Xen host enforcing the policy (selftest), stopping at the
      first stage that fails. Exit 0 when all three hold.
  vmipolicy selftest SPEC [--xen-tree DIR] [--format text|json] [--verbose] [--timings]
      Every declared capability performed as LibVMI would (each allowed by the simulated
      AVC), and probes of what was not granted (each denied), with Xen's own avc lines.
      --timings adds measured microseconds (otherwise every run prints the same bytes).
  vmipolicy compile SPEC -o DIR [--xen VERSION] [--mode module|standalone] [--format text|json]
                   [--binary [--policy-version 24|30]]
      Compile SPEC into DIR: <module>.te (or policy.conf), xl/<domain>.cfg, xenstore-acl.sh,
      xenstore-acl-revoke.sh and manifest.json. Nothing is written unless all succeeds.
      --binary (standalone): also xenpolicy, the loadable binary, byte for byte checkpolicy's.
  vmipolicy check SPEC [--policy FILE…] [--xl CFG…] [--xenstore DUMP] [--xen-tree DIR]
                 [--format text|json|sarif|dot|svg|html] [--trusted TYPE…] [--rules ID,…] [--max-paths N] [--notes]
                 [--fail-on error|warning] [--sarif-root DIR]
      Prove least privilege: compile SPEC and check it inside the base policy of its Xen
      release (Xen's own tree with --xen-tree), or check the deployed policy given with
      --policy (a policy.conf, a binary xenpolicy, or a Xen tree plus extra NAME.te modules) against SPEC.
      Exit 0 proven, 1 findings (--fail-on warning: also for a warning, the spec's or a finding's). Rules: excess, insufficient, undeclared-target,
      reverse-access, shared-label, escalation, cross-target-flow, xenstore-acl, label, neverallow,
      permissive. --sarif-root DIR: SARIF locations are the files under DIR (default: the git
      work tree, else the working directory), relative to it; compiled output is never one.
  vmipolicy vmi translate|read|ps --snapshot FILE [--dtb ADDR] [--mode ia32e|la57|pae|legacy]
                 [--vcpu N] [--address VA] [--length N] [--profile JSON] [--strict-pdpte] [--format text|json]
      The embedded VMI core on a memory snapshot (raw, or what QEMU's dump-guest-memory
      writes: ELF, with or without -p, and kdump-zlib): translate a virtual address, read
      memory, list processes. --dtb and --mode default to the dump's vCPU (--vcpu, 0) when it has them.
  vmipolicy vmi profile --btf FILE --symbols FILE | --dwarf VMLINUX [--symbols FILE]
      The profile vmi ps takes, from the kernel's own files: its BTF (/sys/kernel/btf/vmlinux,
      a vmlinux, or a gzip vmlinuz) and its System.map or kallsyms; or, for a kernel without
      BTF, the DWARF of a vmlinux with debug information (its -dbg package's), init_task from
      that vmlinux's symbol table unless --symbols is given.
  vmipolicy diff OLD NEW [--fail-on new-access] [--format text|json|markdown|sarif|html]
      Semantic privilege diff of two specs, policy.conf files, binary policies or Xen trees (or git:REV:path
      of any of them): what each subject gains or loses, in capability terms for specs,
      with the rule or spec line behind every change. --fail-on new-access exits 1 when
      NEW grants anything OLD did not. --sarif-root DIR as for check.
  vmipolicy explain LOG --spec SPEC [--policy FILE] [--format text|json|markdown]
      Xen's avc denials (xl dmesg output, - for standard input) explained against SPEC: the
      introspector and target behind each, the capability it lacks (the spec line to change),
      or a finding when no capability needs what was denied; --policy: what the host's policy
      decides for each. Exit 1 when a denial concerns SPEC.
  vmipolicy capabilities [--format text|markdown|json]
      What each capability grants, and the hypercall and hook behind every permission.
  vmipolicy policy stats FILE [--format text|json]
  vmipolicy policy query FILE -s TYPE [-t TYPE] [-c CLASS] [-p PERM] [--format text|json]
      Read any Xen FLASK policy — a policy.conf, a binary policy (checkpolicy -t Xen output,
      /boot/xenpolicy-*), or a Xen tree's tools/flask/policy (expanded with m4 as Xen's
      Makefile does) — and count it, or list what TYPE may do, with the line of your own file
      (or the binary's table entry) behind every permission.
  vmipolicy policy build FILE -o OUT [--policy-version 24|30] [--mls] [--format text|json]
      Write the binary policy Xen loads from a policy.conf or Xen tree, byte for byte what
      checkpolicy -t Xen -c N [-M] writes (default 30), without checkpolicy.
  vmipolicy --version | -V | version
  vmipolicy --help | COMMAND --help

Every command takes --quiet (-q): only errors on stderr (warnings stay in JSON and SARIF),
and --no-color (diagnostics are coloured on a terminal unless NO_COLOR is set).
Every command that reads a spec refuses one past its scale limits (VP1217) unless lifted with
--max-domains N (default 2000), --max-pairs N (introspector–target pairs, 2000) or
--max-probes N (introspectors × domains, 200000): within them a run keeps to 1 GiB and 60 s.
Exit codes: 0 success · 1 findings · 2 bad input or usage.
Xen releases: ${releases.join(', ')}.
`;

/** The help, once the vocabulary that lists the releases is loaded. */
async function loadUsage(): Promise<string> {
  return usage((await import('../catalog/vocabulary.js')).XEN_RELEASES);
}

/**
 * `vmipolicy COMMAND --help`: that command's entry of the help (its lines from `  vmipolicy
 * COMMAND` to the next command), so the help has one text.
 */
function commandUsage(help: string, command: string): string {
  const lines = help.split('\n');
  const entry: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.startsWith('  vmipolicy ')) inside = line.startsWith(`  vmipolicy ${command} `);
    else if (!line.startsWith('   ')) inside = false;
    if (inside) entry.push(line);
  }
  return `Usage:\n${entry.join('\n')}\n\nExit codes: 0 success · 1 findings · 2 bad input or usage. Every command: vmipolicy --help\n`;
}

const COMMANDS = ['verify', 'selftest', 'compile', 'check', 'vmi', 'diff', 'explain', 'capabilities', 'policy', 'help', 'version'] as const;
const VERSION_WORDS = new Set(['--version', '-V', 'version']);

type Run = (argv: readonly string[], io: Io) => number | Promise<number>;

/** Commands that parse their own flags (repeatable ones included), each loaded when it runs. */
const OWN_ARGUMENTS: Readonly<Record<string, () => Promise<Run>>> = {
  check: async () => {
    const [{ runCheck }, { machineCommand }, { usageError }] = await Promise.all([import('./check.js'), import('./machine.js'), import('./io.js')]);
    return machineCommand(['json', 'sarif', 'html'], (argv, io) => runCheck(argv, io, usageError));
  },
  vmi: async () => (await import('./vmi.js')).runVmi,
  selftest: async () => (await import('./selftest.js')).runSelftest,
  verify: async () => (await import('./selftest.js')).runVerify,
  diff: async () => (await import('./diff.js')).runDiff,
  explain: async () => (await import('./explain.js')).runExplain,
};

/**
 * The machine formats of the commands parsed here: on exit 2 they still get a document
 * (cli/machine.ts). The commands with their own arguments wrap themselves the same way.
 */
const MACHINE_FORMATS: Readonly<Record<string, readonly string[]>> = {
  compile: ['json'],
  policy: ['json'],
};

/** Every command's flags, each with its short spelling. */
const GLOBAL_FLAGS: Readonly<Record<string, string>> = { '--quiet': '--quiet', '-q': '--quiet', '--no-color': '--no-color' };

/** The global flags taken out of a command's arguments (before any `--`), and which were given. */
function withoutGlobalFlags(argv: readonly string[]): { rest: readonly string[]; flags: ReadonlySet<string> } {
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  const flags = new Set(head.flatMap((a) => (GLOBAL_FLAGS[a] ? [GLOBAL_FLAGS[a]] : [])));
  const kept = head.filter((a) => GLOBAL_FLAGS[a] === undefined);
  return { rest: end < 0 ? kept : [...kept, ...argv.slice(end)], flags };
}

/** The exit code; a promise only for work that waits (rendering SVG loads Graphviz's WebAssembly). */
export function main(argv: readonly string[], given: Io): number | Promise<number> {
  const [command, ...all] = argv;
  const { rest, flags } = withoutGlobalFlags(all);
  const io: Io = { ...given, ...(flags.has('--quiet') ? { quiet: true } : {}), ...(flags.has('--no-color') ? { colour: false } : {}) };
  const machine = command === undefined ? undefined : MACHINE_FORMATS[command];
  if (!machine) return runCommand(command, rest, io);
  return import('./machine.js').then(({ machineCommand }) => machineCommand(machine, (rest, io) => runCommand(command, rest, io))(rest, io));
}

function runCommand(command: string | undefined, rest: readonly string[], io: Io): number | Promise<number> {
  const own = command === undefined ? undefined : OWN_ARGUMENTS[command];
  if (own) {
    if (rest.includes('--help') || rest.includes('-h')) {
      return loadUsage().then((help) => {
        io.stdout(commandUsage(help, command as string));
        return EXIT_OK;
      });
    }
    return own().then((run) => run(rest, io));
  }
  // Before the arguments are parsed (which would find no fault that changes this answer).
  if (command !== undefined && VERSION_WORDS.has(command)) {
    io.stdout(`vmipolicy ${VERSION}\n`);
    return EXIT_OK;
  }
  return Promise.all([import('./args.js'), import('./io.js'), import('../compiler/names.js')]).then(([{ parseArgs, SCALE_FLAGS }, { usageError }, { nearest }]) => {
    const args = parseArgs(rest, { values: ['-o', '--xen', '--mode', '--format', '-s', '-t', '-c', '-p', '--policy-version', ...SCALE_FLAGS], booleans: ['--version', '--binary', '--mls'] });
    return runParsed(command, args, io, usageError, nearest);
  });
}

/** The commands whose flags are parsed here, once args.ts, io.ts and names.ts are loaded. */
function runParsed(command: string | undefined, args: ParsedArgs, io: Io, usageError: (io: Io, message: string) => number, nearest: (word: string, candidates: readonly string[]) => string | undefined): number | Promise<number> {
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    return loadUsage().then((help) => {
      io.stdout(help);
      return command === undefined ? EXIT_USAGE : EXIT_OK;
    });
  }
  if (args.flags.has('--help')) {
    return loadUsage().then((help) => {
      io.stdout((COMMANDS as readonly string[]).includes(command) ? commandUsage(help, command) : help);
      return EXIT_OK;
    });
  }
  if (args.errors.length) return usageError(io, args.errors[0] as string);
  switch (command) {
    case 'compile': return import('./compile.js').then((m) => m.runCompile(args, io));
    case 'capabilities': return import('./capabilities.js').then((m) => m.runCapabilities(args, io));
    case 'policy': return import('./policy.js').then((m) => m.runPolicy(args, io));
    default: {
      const near = nearest(command, COMMANDS);
      return usageError(io, `unknown command '${command}'${near === undefined ? '' : ` (did you mean '${near}'?)`}`);
    }
  }
}

