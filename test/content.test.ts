import xxhash from 'xxhash-wasm'
import { describe, expect, it } from 'vitest'
import { checksumOf, isZeroFp, synthFp, ZERO_FP_HI, ZERO_FP_LO } from '../src/core/machine/content.ts'

describe('page content fingerprints', () => {
  it('the zero page fingerprint is xxhash64 of 4 KiB of zero bytes', async () => {
    const { h64Raw } = await xxhash()
    const h = h64Raw(new Uint8Array(4096))
    expect(Number(h >> 32n)).toBe(ZERO_FP_HI)
    expect(Number(h & 0xffffffffn)).toBe(ZERO_FP_LO)
  })

  it('synthetic content is never the zero page and is a pure function of its key', () => {
    const a = new Uint32Array(2)
    const b = new Uint32Array(2)
    for (let i = 0; i < 1000; i++) {
      synthFp(a, 1, 2, i)
      synthFp(b, 1, 2, i)
      expect(isZeroFp(a[0], a[1])).toBe(false)
      expect([...a]).toEqual([...b])
    }
  })

  it('the KSM checksum is never 0, the value of a record not yet checksummed', () => {
    for (let i = 0; i < 10000; i++) expect(checksumOf(i, i * 7)).not.toBe(0)
  })
})
