/**
 * Seeded pseudo-random numbers for everything in the model. No Math.random, no wall clock:
 * the same seed gives the same stream on every host.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, PractRand-clean),
 * seeded through splitmix32 so that nearby seeds give unrelated streams.
 */

/** splitmix32 step: a good 32-bit mixer, used for seeding and for stateless hashing. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

/** Stateless hash of up to four 32-bit integers into one 32-bit integer. */
export function hash32(a: number, b = 0, c = 0, d = 0): number {
  let h = mix32(a ^ 0x1b873593)
  h = mix32(h ^ b)
  h = mix32(h ^ Math.imul(c, 0x27d4eb2f))
  h = mix32(h ^ Math.imul(d, 0x165667b1))
  return h
}

/** Hash of a string (FNV-1a folded through mix32); stable across hosts. */
export function hashString(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return mix32(h)
}

export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number, stream = 0) {
    this.a = mix32(seed ^ 0xa5a5a5a5)
    this.b = mix32(this.a ^ stream)
    this.c = mix32(this.b ^ 0x5bd1e995)
    this.d = 1
    for (let i = 0; i < 12; i++) this.u32()
  }

  /** Next uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n)
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p
  }

  /** Exponentially distributed value with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean
  }

  /** Log-normal-ish positive integer around `median` with spread factor `sigma` (>= 1 result). */
  lognormalInt(median: number, sigma: number): number {
    // Box-Muller from two uniforms.
    const u = 1 - this.float()
    const v = this.float()
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    return Math.max(1, Math.round(median * Math.exp(sigma * z)))
  }
}
