// DESIGN.md's layer table is enforced by eslint.config.js; these tests lint small snippets as
// if they lived in a given folder, so a config change that silently drops the rule fails here.
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RULE = '@typescript-eslint/no-restricted-imports'

let eslint: ESLint

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT })
})

/** The layer-rule messages ESLint reports for `code` placed at `file` (relative to the repo). */
async function layerViolations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${file}` })
  expect(result.messages.filter((m) => m.fatal)).toEqual([])
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message)
}

describe('layer rule (DESIGN.md layers)', () => {
  it('src/core may not import node:fs', async () => {
    const messages = await layerViolations(
      'src/core/example.ts',
      "import { readFileSync } from 'node:fs'\nexport const read = readFileSync\n"
    )
    expect(messages).toHaveLength(1)
    expect(messages[0]).toContain('src/core may not import node:*')
    expect(messages[0]).toContain('DESIGN.md layers')
  })

  it('src/core may not import a bare Node builtin such as worker_threads', async () => {
    const messages = await layerViolations(
      'src/core/scanners/example.ts',
      "import { Worker } from 'worker_threads'\nexport const W = Worker\n"
    )
    expect(messages).toHaveLength(1)
    expect(messages[0]).toContain('src/core')
  })

  it('src/core may import the pure library zod', async () => {
    const messages = await layerViolations(
      'src/core/example.ts',
      "import { z } from 'zod'\nexport const schema = z.string()\n"
    )
    expect(messages).toEqual([])
  })

  it('src/core may not reach into src/host, but may import its own file named host.ts', async () => {
    const intoHost = await layerViolations(
      'src/core/scanners/example.ts',
      "import { run } from '../../host/session.ts'\nexport const r = run\n"
    )
    expect(intoHost).toHaveLength(1)
    expect(intoHost[0]).toContain('src/core may not import src/host')

    const ownFile = await layerViolations(
      'src/core/scanners/example.ts',
      "import { run } from '../host.ts'\nexport const r = run\n"
    )
    expect(ownFile).toEqual([])
  })

  it('src/renderer may not import electron', async () => {
    const messages = await layerViolations('src/renderer/src/example.ts', "import 'electron'\n")
    expect(messages).toHaveLength(1)
    expect(messages[0]).toContain('src/renderer may not import electron')
  })

  it('src/renderer may import the preload API only as a type', async () => {
    const asType = await layerViolations(
      'src/renderer/src/example.ts',
      "import type { SamepageApi } from '../../preload/api.ts'\nexport type Api = SamepageApi\n"
    )
    expect(asType).toEqual([])

    const asValue = await layerViolations(
      'src/renderer/src/example.ts',
      "import * as api from '../../preload/api.ts'\nexport const a = api\n"
    )
    expect(asValue).toHaveLength(1)
  })

  it('src/host may import node:* only in a node-specific file', async () => {
    const code = "import { Worker } from 'node:worker_threads'\nexport const W = Worker\n"
    expect(await layerViolations('src/host/session.ts', code)).toHaveLength(1)
    expect(await layerViolations('src/host/session.node.ts', code)).toEqual([])
    expect(await layerViolations('src/host/node/worker.ts', code)).toEqual([])
  })

  it('src/preload may import nothing but electron', async () => {
    expect(
      await layerViolations('src/preload/index.ts', "import { contextBridge } from 'electron'\nexport const c = contextBridge\n")
    ).toEqual([])
    const messages = await layerViolations('src/preload/index.ts', "import { z } from 'zod'\nexport const s = z\n")
    expect(messages).toHaveLength(1)
    expect(messages[0]).toContain('src/preload')
  })

  it('src/kernel may import src/core, node:* and koffi, not src/host; src/cli may import src/kernel, src/core may not', async () => {
    expect(await layerViolations('src/kernel/example.ts', "import koffi from 'koffi'\nimport { readFileSync } from 'node:fs'\nimport { PAGE_SIZE } from '../core/content.ts'\nexport const k = [koffi, readFileSync, PAGE_SIZE]\n")).toEqual([])
    const host = await layerViolations('src/kernel/example.ts', "import { loadAssets } from '../host/node/assets.ts'\nexport const l = loadAssets\n")
    expect(host).toHaveLength(1)
    expect(host[0]).toContain('src/kernel may not import')
    expect(await layerViolations('src/cli/example.ts', "import { KsmSysfs } from '../kernel/sysfs.ts'\nexport const K = KsmSysfs\n")).toEqual([])
    expect(await layerViolations('src/core/example.ts', "import { KsmSysfs } from '../kernel/sysfs.ts'\nexport const K = KsmSysfs\n")).toHaveLength(1)
    expect(await layerViolations('src/kernel/example.ts', "import { Canvas } from '@napi-rs/canvas'\nexport const C = Canvas\n")).toHaveLength(1)
  })
})
