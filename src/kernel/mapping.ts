/**
 * Guest memory as the real kernel sees it: one private anonymous mapping holding every VM's
 * pages, VM i at its page offset in the simulator's numbering (gp = VM base + gfn), marked
 * MADV_MERGEABLE so that ksmd scans it, and MADV_NOHUGEPAGE so that a touched page is one
 * 4 KiB page (KSM merges base pages; a THP would make 512 pages present at one write).
 * One mapping rather than one per VM because ksmd walks a process's areas in address order
 * (scan_get_next_rmap_item) and mmap hands out separate areas top-down: in one mapping ksmd
 * visits the VMs in the simulator's order.
 *
 * libc's mmap/madvise/munmap are called through koffi (prebuilt binaries in its npm package:
 * nothing to compile at install); the mapping is written through a Uint32Array view of it.
 * Pages never written are not present (ksmd skips them, as the simulator's walk does).
 */
import koffi from 'koffi'

const PROT_READ = 0x1
const PROT_WRITE = 0x2
const MAP_PRIVATE = 0x02
const MAP_ANONYMOUS = 0x20
const MAP_NORESERVE = 0x4000
/** include/uapi/asm-generic/mman-common.h */
export const MADV_MERGEABLE = 12
export const MADV_NOHUGEPAGE = 15
const MAP_FAILED = 0xffffffffffffffffn

interface Libc {
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown
  madvise: (addr: unknown, len: number, advice: number) => number
  munmap: (addr: unknown, len: number) => number
  sysconf: (name: number) => number
  strerror: (errnum: number) => string
}

let libc: Libc | null = null

function load(): Libc {
  if (libc) return libc
  const lib = koffi.load('libc.so.6')
  libc = {
    mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    madvise: lib.func('int madvise(void *addr, size_t length, int advice)'),
    munmap: lib.func('int munmap(void *addr, size_t length)'),
    sysconf: lib.func('long sysconf(int name)'),
    strerror: lib.func('const char *strerror(int errnum)')
  }
  return libc
}

/** sysconf(_SC_CLK_TCK): the unit of utime and stime in /proc/PID/stat. */
export function clockTicksPerSecond(): number {
  return load().sysconf(2)
}

export class GuestMapping {
  readonly words: Uint32Array
  private ptr: unknown
  readonly bytes: number

  constructor(pages: number) {
    const c = load()
    this.bytes = pages * 4096
    const ptr = c.mmap(null, this.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    if (ptr === null || koffi.address(ptr) === MAP_FAILED) throw new Error(`mmap of ${this.bytes} bytes failed: ${c.strerror(koffi.errno())}`)
    this.ptr = ptr
    for (const advice of [MADV_NOHUGEPAGE, MADV_MERGEABLE]) {
      if (c.madvise(ptr, this.bytes, advice) !== 0) {
        const msg = c.strerror(koffi.errno())
        this.close()
        throw new Error(`madvise(${advice === MADV_MERGEABLE ? 'MADV_MERGEABLE' : 'MADV_NOHUGEPAGE'}) failed: ${msg}`)
      }
    }
    this.words = new Uint32Array(koffi.view(ptr, this.bytes))
  }

  /** Unmap (the kernel drops its rmap items and KSM pages of the area). Idempotent. */
  close(): void {
    if (this.ptr === null) return
    load().munmap(this.ptr, this.bytes)
    this.ptr = null
  }
}
