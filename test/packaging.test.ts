// The packaging configuration (electron-builder.yml; electron-builder itself is not installed
// here): the fuses the desktop boundary relies on, and the resources main uses.
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const yml = readFileSync(new URL('../electron-builder.yml', import.meta.url), 'utf8')

/** `key: value` lines of the electronFuses block. */
function fuses(): Record<string, string> {
  const block = yml.split('\nelectronFuses:\n')[1] ?? ''
  const out: Record<string, string> = {}
  for (const line of block.split('\n')) {
    const m = /^ {2}(\w+): (\S+)$/.exec(line)
    if (!m) break
    out[m[1]] = m[2]
  }
  return out
}

describe('packaging (electron-builder.yml)', () => {
  it('turns off RunAsNode and the --inspect arguments and loads the app only from its asar', () => {
    expect(fuses()).toMatchObject({ runAsNode: 'false', enableNodeCliInspectArguments: 'false', onlyLoadAppFromAsar: 'true' })
  })

  it('packages resources/ with the icon main shows, and the bundled samples', () => {
    expect(yml).toMatch(/^ {2}- resources\/\*\*$/m)
    expect(yml).toMatch(/^icon: resources\/icon\.png$/m)
    const png = readFileSync(new URL('../resources/icon.png', import.meta.url))
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG')
    expect(existsSync(new URL('../resources/samples/trace-replay.samepage.json', import.meta.url))).toBe(true)
  })
})
