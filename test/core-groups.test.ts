// src/core is grouped by concern (DESIGN.md, "src/core"): machine < formats < guests <
// scanners < experiment < analysis < sweep. A file may import its own group and the groups
// below it, never one above: the machine knows nothing of experiments, formats nothing of
// guests, and so on. This test reads every import of every file in src/core.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const CORE = resolve(__dirname, '../src/core')
const ORDER = ['machine', 'formats', 'guests', 'scanners', 'experiment', 'analysis', 'sweep']

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []
  })
}

const groupOf = (file: string): string => relative(CORE, file).split('/')[0]

describe('src/core groups', () => {
  it('every file sits in a group folder: none is left at the top of src/core', () => {
    const loose = readdirSync(CORE).filter((e) => !statSync(join(CORE, e)).isDirectory())
    expect(loose).toEqual([])
    expect(readdirSync(CORE).sort()).toEqual([...ORDER].sort())
  })

  it('no import runs from a lower group up to a higher one', () => {
    const upward: string[] = []
    for (const f of files(CORE)) {
      const from = ORDER.indexOf(groupOf(f))
      const src = readFileSync(f, 'utf8')
      for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = resolve(dirname(f), m[1])
        if (!target.startsWith(CORE + '/')) continue
        const to = ORDER.indexOf(groupOf(target))
        if (to > from) upward.push(`${relative(CORE, f)} imports ${relative(CORE, target)}`)
      }
    }
    expect(upward).toEqual([])
  })
})
