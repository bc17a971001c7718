/**
 * Content hashes of sweep points: a canonical JSON text (object keys sorted, no spaces) and a
 * 64-bit hash of its UTF-8 bytes, as 16 hex digits. Two documents that differ only in key
 * order hash the same. Pure and synchronous (no WebAssembly to load), the same in Node and
 * in a browser.
 */

/** JSON with object keys in sorted order at every level; undefined fields left out, as JSON does. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
  if (Array.isArray(v)) return '[' + v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',') + ']'
  const o = v as Record<string, unknown>
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}'
}

const encoder = new TextEncoder()

/**
 * Two independent 32-bit FNV-1a passes (different offset bases, each finished with murmur3's
 * fmix32 avalanche), side by side: 64 bits, enough that thousands of points never collide.
 */
export function hash64(text: string): string {
  const bytes = encoder.encode(text)
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i], 0x01000193)
    b = Math.imul(b ^ bytes[i], 0x01000193) ^ (b >>> 15)
  }
  return hex8(fmix32(a ^ bytes.length)) + hex8(fmix32(b ^ Math.imul(bytes.length, 0x9e3779b1)))
}

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0')
}
