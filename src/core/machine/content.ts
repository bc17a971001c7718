/**
 * Page content is modelled by a 64-bit fingerprint per 4 KiB page: equal fingerprint = equal
 * bytes. It is kept as two unsigned 32-bit halves (hi, lo) in typed arrays; no BigInt on hot
 * paths. Where content comes from real bytes the fingerprint is xxhash64 of the page; synthetic
 * content derives fingerprints from seeded hashes.
 */
import { hash32 } from './rng.ts'

export const PAGE_SIZE = 4096
export const PAGE_SHIFT = 12

/**
 * xxhash64 (seed 0) of a 4 KiB page of zero bytes: the well-known fingerprint of the zero page.
 * Computed with xxhash-wasm's h64Raw; test/content.test.ts recomputes it.
 */
export const ZERO_FP_HI = 0xac869b6f
export const ZERO_FP_LO = 0x32d8bbdb

export function isZeroFp(hi: number, lo: number): boolean {
  return hi === ZERO_FP_HI && lo === ZERO_FP_LO
}

/**
 * Order of two contents as memcmp would order the pages: by hi, then lo. Used by the
 * content-ordered trees. Returns <0, 0 or >0.
 */
export function cmpFp(ahi: number, alo: number, bhi: number, blo: number): number {
  if (ahi !== bhi) return ahi < bhi ? -1 : 1
  if (alo !== blo) return alo < blo ? -1 : 1
  return 0
}

/**
 * KSM's 32-bit page checksum (xxhash32 of the page in current kernels, jhash2 in 3.0): modelled
 * as a fold of the fingerprint, so it changes exactly when the content changes (up to 2^-32).
 */
export function checksumOf(hi: number, lo: number): number {
  return (hash32(hi, lo) | 1) >>> 0 // never 0: KSM's "no checksum yet" value
}

/** Synthetic content: a fingerprint drawn from a seeded key, written into out as (hi, lo). */
export function synthFp(out: Uint32Array, k0: number, k1: number, k2: number, k3 = 0): void {
  const hi = hash32(k0, k1, k2, k3)
  let lo = hash32(k3 ^ 0x6a09e667, k2, k1, k0)
  if (isZeroFp(hi, lo)) lo ^= 1
  out[0] = hi
  out[1] = lo
}
