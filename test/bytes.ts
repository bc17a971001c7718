// Byte builders the real-data tests share: pseudo-random pages, page fingerprints, ELF cores.
import xxhash from 'xxhash-wasm'
import { concatBytes } from '../src/core/formats/image.ts'

export const PAGE = 4096

const hasher = await xxhash()

/** Pseudo-random bytes from a seed (distinct seeds, distinct pages; seed 0 too). */
export function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n)
  let x = seed * 2654435761 + 1
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    b[i] = x >>> 24
  }
  return b
}

/** The byte arrays one after the other. */
export const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts)

/** xxhash64 of each page (zero-padded to 4 KiB) as the simulator's fingerprints [hi0, lo0, ...]. */
export function fpsOf(pages: Uint8Array[]): Uint32Array {
  const out = new Uint32Array(pages.length * 2)
  pages.forEach((p, i) => {
    const full = new Uint8Array(PAGE)
    full.set(p)
    const h = hasher.h64Raw(full)
    out[i * 2] = Number(h >> 32n)
    out[i * 2 + 1] = Number(h & 0xffffffffn)
  })
  return out
}

/**
 * A minimal ELF64 little-endian core (ET_CORE, x86-64) as QEMU's dump-guest-memory writes: an
 * empty PT_NOTE first, then one PT_LOAD per segment (physical address, file bytes) in the order
 * given, the data page-aligned after the headers.
 */
export function elfCore(segments: { paddr: number; bytes: Uint8Array }[]): Uint8Array {
  const phoff = 64
  const phnum = segments.length + 1
  const dataOff = Math.ceil((phoff + phnum * 56) / PAGE) * PAGE
  const out = new Uint8Array(dataOff + segments.reduce((n, s) => n + s.bytes.length, 0))
  const dv = new DataView(out.buffer)
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])
  dv.setUint16(16, 4, true) // ET_CORE
  dv.setUint16(18, 62, true) // EM_X86_64
  dv.setUint32(20, 1, true)
  dv.setUint32(32, phoff, true)
  dv.setUint16(52, 64, true)
  dv.setUint16(54, 56, true)
  dv.setUint16(56, phnum, true)
  dv.setUint32(phoff, 4, true) // PT_NOTE, empty
  let o = dataOff
  segments.forEach((s, i) => {
    const p = phoff + (i + 1) * 56
    dv.setUint32(p, 1, true) // PT_LOAD
    dv.setUint32(p + 8, o, true)
    dv.setBigUint64(p + 24, BigInt(s.paddr), true)
    dv.setUint32(p + 32, s.bytes.length, true)
    dv.setUint32(p + 40, s.bytes.length, true)
    out.set(s.bytes, o)
    o += s.bytes.length
  })
  return out
}
