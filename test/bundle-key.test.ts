// bin/bundle.js reuses a bundled CLI only when it was built from exactly the current sources.
// A newest-mtime test took a bundle written later by another checkout sharing node_modules
// (an older commit's code) for fresh, so `samepage` silently ran the other checkout's code.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM without types (bin/ is JavaScript run by node)
import { sourceKey } from '../bin/bundle.js'

const dir = mkdtempSync(join(tmpdir(), 'samepage-bundle-key-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the bundle key', () => {
  it('changes when a source goes back to an older time, gains a file or changes size, and only then', () => {
    const a = join(dir, 'a.ts')
    writeFileSync(a, 'export const a = 1\n')
    utimesSync(a, 2_000_000, 2_000_000)
    const key = (sourceKey as (p: string[]) => string)([dir])
    expect(sourceKey([dir])).toBe(key)
    utimesSync(a, 1_000_000, 1_000_000) // an older file put back (another commit's checkout)
    const older = sourceKey([dir])
    expect(older).not.toBe(key)
    writeFileSync(join(dir, 'b.ts'), 'export const b = 2\n')
    const added = sourceKey([dir])
    expect(added).not.toBe(older)
    writeFileSync(a, 'export const a = 12\n')
    utimesSync(a, 1_000_000, 1_000_000)
    expect(sourceKey([dir])).not.toBe(added)
  })
})
