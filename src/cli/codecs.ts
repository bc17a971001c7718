/**
 * The real codecs behind `--beyond` (src/core/formats/beyond.ts): Fossil's delta encoder (fossil-delta, a
 * copy/insert delta of the xdelta family, as Difference Engine patches with xdelta) and zlib's
 * deflate (Difference Engine compresses with LZO or WKdm; zlib is the compressor Node ships).
 */
import { createDelta } from 'fossil-delta'
import { deflateRawSync } from 'node:zlib'
import type { Codecs } from '../core/formats/beyond.ts'
import { BeyondAnalyzer } from '../core/formats/beyond.ts'
import type { H64Raw } from '../core/formats/image.ts'

export const NODE_CODECS: Codecs = {
  delta: (reference, target) => createDelta(reference, target).length,
  compress: (page) => deflateRawSync(page).length
}

/** An h64 that also hands every page it hashes (4 KiB, in order) to the analyzer. */
export function analyzingH64(h64: H64Raw, analyzer: BeyondAnalyzer): H64Raw {
  return (data) => {
    const h = h64(data)
    analyzer.push(data, Number(h >> 32n), Number(h & 0xffffffffn))
    return h
  }
}

export function newAnalyzer(): BeyondAnalyzer {
  return new BeyondAnalyzer(NODE_CODECS)
}
