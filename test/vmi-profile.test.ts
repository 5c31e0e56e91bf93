// `vmi profile`: a guest profile from the kernel's own BTF and symbols. Differential against
// pahole and bpftool on the BTF of the kernel this machine runs (/sys/kernel/btf/vmlinux,
// every distribution kernel has it): the same offsets and the same number of types. Then the
// three forms a kernel comes in (raw BTF, a vmlinux's .BTF section, a gzip vmlinuz), hostile
// BTF, and the whole path: a synthetic guest's BTF and System.map → profile → `vmi ps`.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseBtf, findStruct, memberOffset } from '../vmi/guest/btf.js';
import { profileFromBtf, readKernelBtf, symbolAddress } from '../vmi/guest/kernel-profile.js';
import { buildSyntheticGuest } from '../vmi/guest/synthetic-guest.js';
import { writeRawSnapshot } from '../vmi/guest/snapshot-files.js';
import { repoPath, requires } from './support/env.js';
import { withTempDir } from './support/oracles.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8' });
const RUNNING_BTF = '/sys/kernel/btf/vmlinux';

/** pahole's byte offset of `member` in `struct`, from its C-like listing ("type name; /* offset size *\/"). */
function paholeOffset(struct: string, member: string): number {
  const text = execFileSync('pahole', ['-C', struct, RUNNING_BTF], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = text.split('\n').find((l) => new RegExp(`[ *]${member}(\\[\\d+\\])?;\\s+/\\*\\s+\\d+`).test(l));
  assert.ok(line, `pahole lists ${struct}.${member}`);
  return Number(/\/\*\s+(\d+)/.exec(line)?.[1]);
}

describe('BTF against pahole and bpftool', () => {
  it('the running kernel\'s task_struct and mm_struct offsets are pahole\'s, and every type is read', (t) => {
    if (!existsSync(RUNNING_BTF)) {
      console.log(`# skipped ${t.name}: this kernel exposes no ${RUNNING_BTF}`);
      t.skip(`no ${RUNNING_BTF}`);
      return;
    }
    if (!requires(t, { commands: ['pahole', 'bpftool'] })) return;
    const parsed = parseBtf(readFileSync(RUNNING_BTF));
    assert.ok(parsed.ok);
    const raw = execFileSync('bpftool', ['btf', 'dump', 'file', RUNNING_BTF, 'format', 'raw'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const ids = raw.split('\n').filter((l) => l.startsWith('[')).length;
    assert.equal(parsed.types.length - 1, ids, 'as many types as bpftool lists');
    const task = findStruct(parsed.types, 'task_struct');
    const mm = findStruct(parsed.types, 'mm_struct');
    assert.ok(task && mm);
    for (const [struct, member] of [[task, 'tasks'], [task, 'pid'], [task, 'comm'], [task, 'mm'], [mm, 'pgd']] as const) {
      assert.equal(memberOffset(parsed.types, struct, member), paholeOffset(struct.name, member), `${struct.name}.${member}`);
    }
  });
});

/** A minimal BTF blob: task_struct with the four members, mm_struct holding pgd inside an anonymous struct. */
function syntheticBtf(o: { tasks: number; pid: number; comm: number; mm: number; pgd: number }): Uint8Array {
  const names = ['', 'int', 'task_struct', 'tasks', 'pid', 'comm', 'mm', 'mm_struct', 'pgd'];
  const offsetOf = new Map<string, number>();
  let strings = '';
  for (const n of names) {
    offsetOf.set(n, strings.length);
    strings += n + '\0';
  }
  const words: number[] = [];
  const type = (name: string, kind: number, vlen: number, size: number): void => void words.push(offsetOf.get(name) as number, (kind << 24) | vlen, size);
  type('int', 1, 0, 4);
  words.push(32); // INT encoding: 32 bits
  type('task_struct', 4, 4, 0x2000);
  for (const m of ['tasks', 'pid', 'comm', 'mm'] as const) words.push(offsetOf.get(m) as number, 1, o[m] * 8);
  type('mm_struct', 4, 1, 0x400);
  words.push(0, 4, 0); // an anonymous struct (type 4) at offset 0
  type('', 4, 1, 0x400);
  words.push(offsetOf.get('pgd') as number, 1, o.pgd * 8);
  const typeBytes = new Uint8Array(Uint32Array.from(words).buffer);
  const strBytes = new TextEncoder().encode(strings);
  const out = new Uint8Array(24 + typeBytes.length + strBytes.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  out[2] = 1;
  v.setUint32(4, 24, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, typeBytes.length, true);
  v.setUint32(16, typeBytes.length, true);
  v.setUint32(20, strBytes.length, true);
  out.set(typeBytes, 24);
  out.set(strBytes, 24 + typeBytes.length);
  return out;
}

/** An ELF64 vmlinux with the blob as its .BTF section (and the section name table). */
function vmlinuxWith(btf: Uint8Array): Uint8Array {
  const names = new TextEncoder().encode('\0.shstrtab\0.BTF\0');
  const btfAt = 0x100;
  const namesAt = btfAt + btf.length;
  const shoff = Math.ceil((namesAt + names.length) / 8) * 8;
  const out = new Uint8Array(shoff + 3 * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setUint16(16, 2, true);
  v.setBigUint64(0x28, BigInt(shoff), true);
  v.setUint16(0x3a, 64, true);
  v.setUint16(0x3c, 3, true);
  v.setUint16(0x3e, 1, true);
  out.set(btf, btfAt);
  out.set(names, namesAt);
  const section = (i: number, name: number, offset: number, size: number): void => {
    v.setUint32(shoff + i * 64, name, true);
    v.setBigUint64(shoff + i * 64 + 0x18, BigInt(offset), true);
    v.setBigUint64(shoff + i * 64 + 0x20, BigInt(size), true);
  };
  section(1, 1, namesAt, names.length);
  section(2, 11, btfAt, btf.length);
  return out;
}

/** A bzImage: setup sectors, "HdrS", then the compressed payload. */
function bzImageWith(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 * 512 + payload.length + 16);
  out[0x1f1] = 4;
  out.set(new TextEncoder().encode('HdrS'), 0x202);
  out.set(payload, 5 * 512);
  return out;
}

describe('kernel files', () => {
  const offsets = { tasks: 0x4c8, pid: 0x5c8, comm: 0x738, mm: 0x518, pgd: 0x50 };
  const btf = syntheticBtf(offsets);

  it('raw BTF, a vmlinux\'s .BTF section and a gzip vmlinuz give the same profile; other compressors are named', () => {
    withTempDir((dir) => {
      const forms: [string, Uint8Array][] = [['btf', btf], ['vmlinux', vmlinuxWith(btf)], ['vmlinuz', bzImageWith(gzipSync(vmlinuxWith(btf)))]];
      for (const [name, bytes] of forms) {
        writeFileSync(join(dir, name), bytes);
        const types = readKernelBtf(join(dir, name));
        assert.ok(types.ok, `${name}: ${types.ok ? '' : types.diagnostic.message}`);
        const p = profileFromBtf(types.value, 'ffffffff82a12940 D init_task\n', { btf: name, symbols: 'System.map' });
        assert.ok(p.ok);
        assert.deepEqual(p.value, { ...offsets, initTask: 0xffffffff82a12940n });
      }
      writeFileSync(join(dir, 'xz'), bzImageWith(new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3])));
      const xz = readKernelBtf(join(dir, 'xz'));
      assert.ok(!xz.ok && /compressed with xz/.test(xz.diagnostic.message));
    });
  });

  it('symbols are read from System.map and kallsyms lines alike', () => {
    assert.equal(symbolAddress('ffffffff81000000 T _stext\nffffffff82a12940 D init_task\n', 'init_task'), 0xffffffff82a12940n);
    assert.equal(symbolAddress('c1a0b2c0 D init_task\n', 'init_task'), 0xc1a0b2c0n);
    assert.equal(symbolAddress('ffffffff82a12940 D init_task_x\n', 'init_task'), undefined);
  });

  it('any cut or changed byte of a BTF blob is a clear error or a profile, never a crash', () => {
    fc.assert(
      fc.property(fc.nat({ max: btf.length }), fc.nat({ max: btf.length - 1 }), fc.integer({ min: 0, max: 255 }), (cut, at, byte) => {
        const bytes = btf.slice(0, Math.max(cut, 1));
        if (at < bytes.length) bytes[at] = byte;
        const parsed = parseBtf(bytes);
        if (parsed.ok) profileFromBtf(parsed.types, 'ffffffff82a12940 D init_task', { btf: 'b', symbols: 's' });
      }),
      { numRuns: 500 },
    );
  });

  it('vmi profile, then vmi ps with it: the synthetic guest\'s task list from nothing hand-written', () => {
    const guest = buildSyntheticGuest({ seed: 31, memoryBytes: 32 << 20, processes: 6, dataPages: 1 });
    withTempDir((dir) => {
      const p = guest.profile;
      writeFileSync(join(dir, 'vmlinux'), vmlinuxWith(syntheticBtf({ tasks: p.tasks, pid: p.pid, comm: p.comm, mm: p.mm, pgd: p.pgd })));
      writeFileSync(join(dir, 'System.map'), `ffffffff81000000 T _stext\n${p.initTask.toString(16)} D init_task\n`);
      const made = cli(['vmi', 'profile', '--btf', join(dir, 'vmlinux'), '--symbols', join(dir, 'System.map')]);
      assert.equal(made.status, 0, made.stderr);
      writeFileSync(join(dir, 'profile.json'), made.stdout);
      writeRawSnapshot(guest.image, join(dir, 'g.raw'));
      const ps = cli(['vmi', 'ps', '--snapshot', join(dir, 'g.raw'), '--dtb', `0x${guest.dtb.toString(16)}`, '--profile', join(dir, 'profile.json'), '--format', 'json']);
      assert.equal(ps.status, 0, ps.stderr);
      assert.deepEqual(JSON.parse(ps.stdout).processes.map((x: { pid: number; comm: string }) => [x.pid, x.comm]), guest.processes.map((x) => [x.pid, x.comm]));
      const missing = cli(['vmi', 'profile', '--btf', join(dir, 'vmlinux'), '--symbols', join(dir, 'profile.json')]);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /no address for init_task/);
    });
  });
});
