// Reclaim in a guest under memory pressure (src/core/guests/guest.ts, GuestOS.reclaim). The guest
// counts its page-cache and text pages so that a guest whose memory is all anonymous skips
// sweeps that could find nothing (each swept every page three times, per allocation); these
// tests guard that the count stays right, so page cache is still evicted whenever it exists.
import { describe, expect, it } from 'vitest'
import { GuestOS, PT_ANON, PT_PAGECACHE, PT_TEXT } from '../src/core/guests/guest.ts'
import { HostMemory } from '../src/core/machine/memory.ts'
import { XEON_X5560 } from '../src/core/machine/cost.ts'

const PAGES = 4096

function guest(): GuestOS {
  return new GuestOS(0, 0, PAGES, new HostMemory(PAGES, false), XEON_X5560, null)
}

/** Allocate anonymous pages until the free lists are down to `left` pages. */
function fillAnon(g: GuestOS, left: number): void {
  let i = 1
  while (g.freePages > left) expect(g.allocAnon(0x1000 + i, i++)).toBeGreaterThanOrEqual(0)
}

describe('guest reclaim', () => {
  it('an all-anonymous guest runs out of memory without evicting anything', () => {
    const g = guest()
    fillAnon(g, 0)
    expect(g.allocAnon(1, 2)).toBe(-1)
    expect(g.oomEvents).toBe(1)
    expect(g.evictions).toBe(0)
  })

  it('page cache read into a full guest is evicted to make room, however often it comes and goes', () => {
    const g = guest()
    const file = g.files.add(7, 0xabc, 400, false)
    fillAnon(g, 400)
    expect(g.readFile(file, 0, 400)).toBe(400) // 400 page-cache pages; the free lists are empty
    for (let round = 0; round < 3; round++) {
      // Each allocation below the low watermark evicts unreferenced page cache first.
      for (let k = 0; k < 50; k++) expect(g.allocAnon(0x9000 + round, k)).toBeGreaterThanOrEqual(0)
      expect(g.evictions).toBeGreaterThan(0)
      // Read the file again: the evicted pages come back as page cache, evictable again.
      g.readFile(file, 0, 400)
    }
    const counts = new Float64Array(8)
    g.countTypes(counts)
    expect(counts[PT_PAGECACHE]).toBeGreaterThan(0)
    expect(counts[PT_ANON]).toBe(PAGES - 400 + 150)
  })

  it('text pages are evicted in the last round, after page cache turned into text by a mapping', () => {
    const g = guest()
    const file = g.files.add(8, 0xdef, 100, false)
    fillAnon(g, 100)
    g.readFile(file, 0, 100) // page cache ...
    g.mapText(file) // ... now mapped executable: text, referenced
    const before = g.evictions
    // Nothing but referenced text is left to evict: the third round takes it, not an OOM.
    expect(g.allocAnon(0x5555, 1)).toBeGreaterThanOrEqual(0)
    expect(g.evictions).toBeGreaterThan(before)
    expect(g.oomEvents).toBe(0)
    const counts = new Float64Array(8)
    g.countTypes(counts)
    expect(counts[PT_TEXT]).toBeLessThan(100)
  })
})
