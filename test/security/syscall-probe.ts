/**
 * A function's way to attack the kernel directly: a tiny static x86-64 ELF that makes one raw
 * syscall and exits with 0 on success or with the errno. Functions may run native helpers from
 * /tmp (as on Lambda), so this is what a hostile function would do; JavaScript alone cannot even
 * ask for a raw socket or a mount. Built by hand so the tests need no compiler.
 */

const BASE = 0x400000;
const EHDR = 64;
const PHDR = 56;

function movImm64(opcode: number[], value: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, value));
  return [...opcode, ...b];
}

/** syscall(nr, a0..a5); exit(ret < 0 ? -ret : 0). Pointer arguments are passed as plain numbers. */
export function syscallProbeElf(nr: number, args: Array<number | bigint> = []): Buffer {
  const a = [...args, 0, 0, 0, 0, 0, 0].slice(0, 6).map((v) => BigInt(v));
  const code = [
    ...movImm64([0x48, 0xb8], BigInt(nr)), // mov rax, nr
    ...movImm64([0x48, 0xbf], a[0]), // mov rdi
    ...movImm64([0x48, 0xbe], a[1]), // mov rsi
    ...movImm64([0x48, 0xba], a[2]), // mov rdx
    ...movImm64([0x49, 0xba], a[3]), // mov r10
    ...movImm64([0x49, 0xb8], a[4]), // mov r8
    ...movImm64([0x49, 0xb9], a[5]), // mov r9
    0x0f, 0x05, // syscall
    0x48, 0x85, 0xc0, // test rax, rax
    0x78, 0x04, // js negative
    0x31, 0xff, // xor edi, edi
    0xeb, 0x06, // jmp exit
    0x48, 0x89, 0xc7, // negative: mov rdi, rax
    0x48, 0xf7, 0xdf, // neg rdi
    0xb8, 0x3c, 0x00, 0x00, 0x00, // exit: mov eax, 60 (exit)
    0x0f, 0x05, // syscall
  ];
  return elfWithCode(code);
}

/** A fork bomb: fork() forever, in every child too. */
export function forkBombElf(): Buffer {
  return elfWithCode([0xb8, 0x39, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7]); // mov eax, 57 (fork); syscall; jmp start
}

/** A minimal static ELF that loads `code` and runs it. */
export function elfWithCode(code: number[]): Buffer {
  const size = EHDR + PHDR + code.length;
  const elf = Buffer.alloc(size);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(elf, 0);
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(0x3e, 18); // x86-64
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BigInt(BASE + EHDR + PHDR), 24); // entry
  elf.writeBigUInt64LE(BigInt(EHDR), 32); // phoff
  elf.writeUInt16LE(EHDR, 52);
  elf.writeUInt16LE(PHDR, 54);
  elf.writeUInt16LE(1, 56); // phnum
  const ph = EHDR;
  elf.writeUInt32LE(1, ph); // PT_LOAD
  elf.writeUInt32LE(5, ph + 4); // R+X
  elf.writeBigUInt64LE(0n, ph + 8);
  elf.writeBigUInt64LE(BigInt(BASE), ph + 16);
  elf.writeBigUInt64LE(BigInt(BASE), ph + 24);
  elf.writeBigUInt64LE(BigInt(size), ph + 32);
  elf.writeBigUInt64LE(BigInt(size), ph + 40);
  elf.writeBigUInt64LE(0x1000n, ph + 48);
  Buffer.from(code).copy(elf, EHDR + PHDR);
  return elf;
}

/** x86-64 syscall numbers used by the attacks. */
export const SYS = {
  getpid: 39,
  socket: 41,
  clone: 56,
  ptrace: 101,
  mount: 165,
  init_module: 175,
  finit_module: 313,
  delete_module: 176,
  unshare: 272,
  setns: 308,
  keyctl: 250,
  add_key: 248,
  bpf: 321,
  perf_event_open: 298,
  kexec_load: 246,
  clone3: 435,
  io_uring_setup: 425,
  userfaultfd: 323,
  pivot_root: 155,
  chroot: 161,
} as const;

export const ERRNO = { EPERM: 1, ENOENT: 2, EFAULT: 14, EINVAL: 22, ENOSYS: 38 } as const;
