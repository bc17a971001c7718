/**
 * The bytes of a page in the real mapping: a deterministic 4 KiB expansion of the page's 64-bit
 * fingerprint (src/core/machine/content.ts). Equal fingerprints give equal bytes; different ones differ
 * in the first 8 bytes, which hold the fingerprint itself (hi, lo as little-endian 32-bit words);
 * the zero page's fingerprint gives 4096 zero bytes, so the kernel sees a real zero page
 * (use_zero_pages, ksm_zero_pages). The other 1022 words come from a counter-based 32-bit mixer
 * seeded by the fingerprint (murmur3's fmix32 over a Weyl sequence), so pages with different
 * fingerprints differ all along and memcmp in ksmd's trees stops at the first word, as it would
 * on real, unrelated pages. Pure: runs anywhere.
 */
import { isZeroFp, PAGE_SIZE } from '../core/machine/content.ts'

export const PAGE_WORDS = PAGE_SIZE / 4
const WEYL = 0x9e3779b9

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Write the page of fingerprint (hi, lo) into `words` at word offset `at` (PAGE_WORDS words). */
export function fillPage(words: Uint32Array, at: number, hi: number, lo: number): void {
  if (isZeroFp(hi, lo)) {
    words.fill(0, at, at + PAGE_WORDS)
    return
  }
  words[at] = hi
  words[at + 1] = lo
  let s = fmix32(hi ^ fmix32(lo ^ 0x5bd1e995))
  for (let i = 2; i < PAGE_WORDS; i++) {
    s = (s + WEYL) | 0
    words[at + i] = fmix32(s)
  }
}
