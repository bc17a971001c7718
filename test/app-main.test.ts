// Main's handlers as plain functions with a fake `electron` (test/app-fakes.ts): files through
// dialogs, validation on open, atomic and guarded writes, recent files, the unsaved-changes
// prompt, export, the window state and the menu.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { parseExperiment } from '../src/core/experiment/config.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { PRESETS } from '../src/core/experiment/presets.ts'
import { buildResult, resultToText } from '../src/core/experiment/result.ts'
import { atomicWrite } from '../src/main/atomic.ts'
import { confirmDiscard, documentName, DocumentState, interceptClose, windowTitle, type MessageBox } from '../src/main/document.ts'
import { exportFiles, openConfig, openRecent, openResult, saveConfig, saveResult } from '../src/main/files.ts'
import { buildMenuTemplate, EXPERIMENT_ACCELERATORS, type MenuActions } from '../src/main/menu.ts'
import { MAX_RECENT, RecentFiles } from '../src/main/recent.ts'
import { restoreWindowState, windowStateText } from '../src/main/window-state.ts'
import type { MenuItemConstructorOptions } from 'electron'
import { fakeHost, removeFakeFolders, VALID_CONFIG, VALID_TEXT } from './app-fakes.ts'

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])
let resultText: string

beforeAll(() => {
  const config = parseExperiment(VALID_CONFIG)
  const engine = new Engine(config)
  engine.run()
  resultText = resultToText(
    buildResult(
      config,
      engine.summary(0.1),
      engine.lanes.map((l) => ({ name: l.cfg.name, scanner: l.cfg.scanner.kind, columns: l.series.slice(0) }))
    )
  )
})

afterAll(removeFakeFolders)

describe('open an experiment', () => {
  it('reads and validates the file the user picks, and remembers it', async () => {
    const host = fakeHost()
    const path = join(host.documentsDir, 'tiny.samepage.json')
    writeFileSync(path, VALID_TEXT)
    host.dialog.open.push([path])
    const opened = await openConfig(host)
    expect(opened).toEqual({ name: 'tiny.samepage.json', path, text: VALID_TEXT })
    expect(host.recent.list()).toEqual([path])
    expect(host.granted.has(path)).toBe(true)
    expect(host.dialog.calls[0].options).toMatchObject({ title: 'Open Experiment', properties: ['openFile'] })
  })

  it('returns the field-path issues of an invalid file and does not adopt it', async () => {
    const host = fakeHost()
    const path = join(host.documentsDir, 'bad.samepage.json')
    const text = JSON.stringify({ ...VALID_CONFIG, duration_s: 'long', vms: [{ name: 'a', workload: { kind: 'nope' } }] })
    writeFileSync(path, text)
    host.dialog.open.push([path])
    const opened = await openConfig(host)
    expect(opened?.text).toBe(text)
    expect(opened?.issues?.map((i) => i.path)).toEqual(expect.arrayContaining(['duration_s', 'vms[0].workload.kind']))
    expect(host.recent.list()).toEqual([])
    expect(host.granted.size).toBe(0)
  })

  it('reports invalid JSON and unreadable files as an issue at the root', async () => {
    const host = fakeHost()
    const broken = join(host.documentsDir, 'broken.samepage.json')
    writeFileSync(broken, '{ "schema": ')
    host.dialog.open.push([broken], [join(host.documentsDir, 'gone.samepage.json')], [host.documentsDir])
    expect((await openConfig(host))?.issues?.[0]).toMatchObject({ path: '(root)', message: expect.stringContaining('invalid JSON') })
    expect((await openConfig(host))?.issues?.[0]).toMatchObject({ path: '(root)', message: expect.stringContaining('no such file') })
    expect((await openConfig(host))?.issues?.[0].message).toContain('folder')
  })

  it('gives null when the dialog is cancelled', async () => {
    const host = fakeHost()
    host.dialog.open.push(null)
    expect(await openConfig(host)).toBeNull()
  })

  it('asks about unsaved changes first, and Cancel keeps the current experiment', async () => {
    const host = fakeHost()
    host.doc.dirty = true
    host.doc.title = '● fig6b.samepage.json — Samepage Lab'
    host.dialog.message.push(2) // Cancel
    expect(await openConfig(host)).toBeNull()
    expect(host.dialog.kinds()).toEqual(['message'])
    expect(host.dialog.calls[0].options).toMatchObject({ message: 'Do you want to save the changes to "fig6b.samepage.json"?' })
  })

  it("Don't Save goes on to the open dialog", async () => {
    const host = fakeHost()
    host.doc.dirty = true
    host.dialog.message.push(1)
    host.dialog.open.push(null)
    await openConfig(host)
    expect(host.dialog.kinds()).toEqual(['message', 'open'])
  })
})

describe('open recent', () => {
  it('reads only paths on the recent list', async () => {
    const host = fakeHost()
    await expect(openRecent(host, '/etc/passwd')).rejects.toThrow(/not a file on the recent list/)
  })

  it('drops a recent file that can no longer be read', async () => {
    const host = fakeHost()
    const path = join(host.documentsDir, 'moved.samepage.json')
    host.recent.add(path)
    expect(await openRecent(host, path)).toBeNull()
    expect(host.recent.list()).toEqual([])
  })

  it('opens a recent file and grants it for Save', async () => {
    const host = fakeHost()
    const path = join(host.documentsDir, 'r.samepage.json')
    writeFileSync(path, VALID_TEXT)
    host.recent.add(path)
    expect((await openRecent(host, path))?.text).toBe(VALID_TEXT)
    expect(host.granted.has(path)).toBe(true)
    // The window's experiment file: relative file paths in it resolve against its folder.
    expect(host.doc.path).toBe(path)
  })
})

describe('save an experiment', () => {
  it('Save writes a granted path without a dialog, atomically (no temporary file left)', async () => {
    const host = fakeHost()
    const path = join(host.documentsDir, 'x.samepage.json')
    writeFileSync(path, 'old')
    host.granted.add(path)
    const saved = await saveConfig(host, VALID_TEXT, { path, suggestedName: 'x.samepage.json', saveAs: false })
    expect(saved).toEqual({ name: 'x.samepage.json', path })
    expect(readFileSync(path, 'utf8')).toBe(VALID_TEXT)
    expect(readdirSync(host.documentsDir)).toEqual(['x.samepage.json'])
    expect(host.dialog.calls).toEqual([])
  })

  it('a path the renderer names but main never handed out goes through the dialog', async () => {
    const host = fakeHost()
    const chosen = join(host.documentsDir, 'chosen')
    host.dialog.save.push(chosen)
    const saved = await saveConfig(host, VALID_TEXT, { path: '/etc/cron.d/evil', suggestedName: 'tiny.samepage.json', saveAs: false })
    expect(saved?.path).toBe(`${chosen}.samepage.json`) // the file type's suffix is added
    expect(existsSync('/etc/cron.d/evil')).toBe(false)
    expect(host.dialog.calls[0].options).toMatchObject({ defaultPath: join(host.documentsDir, 'tiny.samepage.json') })
    expect(host.recent.list()).toEqual([`${chosen}.samepage.json`])
    expect(host.doc.path).toBe(`${chosen}.samepage.json`)
  })

  it('Save As always asks, and a cancelled dialog writes nothing', async () => {
    const host = fakeHost()
    const path = join(host.documentsDir, 'x.samepage.json')
    host.granted.add(path)
    host.dialog.save.push(null)
    expect(await saveConfig(host, VALID_TEXT, { path, suggestedName: 'x', saveAs: true })).toBeNull()
    expect(readdirSync(host.documentsDir)).toEqual([])
  })

  it('accepts a draft with field problems but refuses what is not an experiment document', async () => {
    const host = fakeHost()
    const draft = JSON.stringify({ ...VALID_CONFIG, duration_s: -1 })
    host.dialog.save.push(join(host.documentsDir, 'draft.samepage.json'))
    expect(await saveConfig(host, draft, { suggestedName: 'draft', saveAs: false })).not.toBeNull()
    await expect(saveConfig(host, '{"schema": "something-else"}', { suggestedName: 'x', saveAs: false })).rejects.toThrow(/schema/)
    await expect(saveConfig(host, 'not json', { suggestedName: 'x', saveAs: false })).rejects.toThrow(/invalid JSON/)
    await expect(saveConfig(host, '[1]', { suggestedName: 'x', saveAs: false })).rejects.toThrow(/not a JSON object/)
  })

  it('a failed write leaves the old file whole and no temporary file', async () => {
    const host = fakeHost()
    const target = join(host.documentsDir, 'occupied.samepage.json')
    mkdirSync(target) // renaming a file over a folder fails
    writeFileSync(join(target, 'keep'), 'kept')
    host.granted.add(target)
    await expect(saveConfig(host, VALID_TEXT, { path: target, suggestedName: 'x', saveAs: false })).rejects.toThrow()
    expect(readdirSync(host.documentsDir)).toEqual(['occupied.samepage.json'])
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('kept')
  })

  it('atomicWrite replaces the content in one step', async () => {
    const host = fakeHost()
    const path = join(host.documentsDir, 'a.json')
    await atomicWrite(path, 'one')
    await atomicWrite(path, new Uint8Array([0x74, 0x77, 0x6f]))
    expect(readFileSync(path, 'utf8')).toBe('two')
    expect(readdirSync(host.documentsDir)).toEqual(['a.json'])
  })
})

describe('results', () => {
  it('round-trips a result file through Save Result and Open Result', async () => {
    const host = fakeHost()
    host.dialog.save.push(join(host.documentsDir, 'run1'))
    const saved = await saveResult(host, resultText, 'tiny.result.json')
    expect(saved?.name).toBe('run1.result.json')
    host.dialog.open.push([saved!.path!])
    const opened = await openResult(host)
    expect(opened).toEqual({ name: 'run1.result.json', path: saved!.path, text: resultText })
  })

  it('refuses to save an invalid result, and reports an invalid one on open by field path', async () => {
    const host = fakeHost()
    const doc = JSON.parse(resultText)
    doc.series.KSM.t_s = doc.series.KSM.t_s.slice(1)
    await expect(saveResult(host, JSON.stringify(doc), 'x')).rejects.toThrow(/series\.KSM\./)
    const path = join(host.documentsDir, 'bad.result.json')
    writeFileSync(path, JSON.stringify(doc))
    host.dialog.open.push([path])
    expect((await openResult(host))?.issues?.[0].path).toMatch(/^series\.KSM\./)
  })
})

describe('export', () => {
  it('writes every file into the folder the user picks', async () => {
    const host = fakeHost()
    host.dialog.open.push([host.documentsDir])
    const ok = await exportFiles(host, [{ name: 'sharing.png', data: PNG }, { name: 'series.csv', data: 'lane,t_s\n' }], 'tiny')
    expect(ok).toBe(true)
    expect(readdirSync(host.documentsDir).sort()).toEqual(['series.csv', 'sharing.png'])
    expect(new Uint8Array(readFileSync(join(host.documentsDir, 'sharing.png')))).toEqual(PNG)
    expect(host.dialog.calls[0]).toMatchObject({ kind: 'open', options: { properties: ['openDirectory', 'createDirectory'] } })
  })

  it('asks before replacing files, and Cancel writes nothing', async () => {
    const host = fakeHost()
    writeFileSync(join(host.documentsDir, 'series.csv'), 'old')
    host.dialog.open.push([host.documentsDir])
    host.dialog.message.push(1) // Cancel
    expect(await exportFiles(host, [{ name: 'series.csv', data: 'new' }, { name: 'summary.json', data: '{}' }], 'x')).toBe(false)
    expect(readFileSync(join(host.documentsDir, 'series.csv'), 'utf8')).toBe('old')
    expect(existsSync(join(host.documentsDir, 'summary.json'))).toBe(false)
  })

  it('gives false when the folder dialog is cancelled', async () => {
    const host = fakeHost()
    host.dialog.open.push(null)
    expect(await exportFiles(host, [{ name: 'series.csv', data: '' }], 'x')).toBe(false)
  })
})

describe('unsaved changes', () => {
  function discard(doc: DocumentState, responses: number[], onSave: () => void = () => undefined) {
    const asked: string[] = []
    const messageBox: MessageBox = async (opts) => {
      asked.push(opts.message)
      const response = responses.shift()
      if (response === undefined) throw new Error('unexpected prompt')
      return { response }
    }
    return { host: { doc, messageBox, requestSave: onSave, saveTimeoutMs: 50 }, asked }
  }

  it('does not ask when nothing changed', async () => {
    const { host, asked } = discard(new DocumentState(), [])
    expect(await confirmDiscard(host)).toBe(true)
    expect(asked).toEqual([])
  })

  it("Don't Save goes ahead; Cancel does not", async () => {
    const doc = new DocumentState()
    doc.dirty = true
    expect(await confirmDiscard(discard(doc, [1]).host)).toBe(true)
    expect(await confirmDiscard(discard(doc, [2]).host)).toBe(false)
  })

  it('Save asks the renderer to save and goes ahead once the save was written', async () => {
    const doc = new DocumentState()
    doc.dirty = true
    const { host } = discard(doc, [0], () => {
      doc.saveStarted()
      setTimeout(() => doc.saveFinished(true), 100) // longer than the timeout: started saves wait
    })
    expect(await confirmDiscard(host)).toBe(true)
    expect(doc.dirty).toBe(false)
  })

  it('Save stops when the save is cancelled, or never starts', async () => {
    const doc = new DocumentState()
    doc.dirty = true
    const cancelled = discard(doc, [0], () => doc.saveFinished(false))
    expect(await confirmDiscard(cancelled.host)).toBe(false)
    const ignored = discard(doc, [0]) // a renderer that does not react to 'save'
    expect(await confirmDiscard(ignored.host)).toBe(false)
  })

  it('Save through main: the save handler finishing releases the prompt', async () => {
    const host = fakeHost()
    host.doc.dirty = true
    const path = join(host.documentsDir, 'x.samepage.json')
    host.granted.add(path)
    host.dialog.message.push(0) // Save
    host.dialog.open.push(null)
    const opening = openConfig(host)
    await vi.waitFor(() => expect(host.menus).toEqual(['save']))
    await saveConfig(host, VALID_TEXT, { path, suggestedName: 'x', saveAs: false })
    expect(await opening).toBeNull()
    expect(host.dialog.kinds()).toEqual(['message', 'open'])
  })

  it('closing a dirty window is held until the user agrees, then goes through once', async () => {
    const doc = new DocumentState()
    doc.dirty = true
    const { host } = discard(doc, [2, 1])
    const close = vi.fn()
    const cancelled = vi.fn()
    expect(interceptClose(host, close, cancelled)).toBe(false)
    await vi.waitFor(() => expect(cancelled).toHaveBeenCalledTimes(1))
    expect(close).not.toHaveBeenCalled()
    expect(interceptClose(host, close, cancelled)).toBe(false)
    await vi.waitFor(() => expect(close).toHaveBeenCalledTimes(1))
    expect(interceptClose(host, close, cancelled)).toBe(true) // the close that follows
  })

  it('a second close while the prompt is open shows no second prompt', async () => {
    const doc = new DocumentState()
    doc.dirty = true
    const { host, asked } = discard(doc, [1])
    const close = vi.fn()
    interceptClose(host, close, () => undefined)
    interceptClose(host, close, () => undefined)
    await vi.waitFor(() => expect(close).toHaveBeenCalled())
    expect(asked).toHaveLength(1)
  })

  it('the window title is the renderer’s, and the prompt names the document', () => {
    expect(windowTitle('● fig6b — Samepage Lab')).toBe('● fig6b — Samepage Lab')
    expect(windowTitle('  ')).toBe('Samepage Lab')
    expect(documentName('● fig6b.samepage.json — Samepage Lab')).toBe('fig6b.samepage.json')
    expect(documentName('Untitled')).toBe('Untitled')
  })
})

describe('recent files', () => {
  it('keeps the newest first, without duplicates, at most MAX_RECENT', () => {
    const r = new RecentFiles()
    const changes = vi.fn()
    r.onChange(changes)
    for (let i = 0; i < MAX_RECENT + 3; i++) r.add(`/f${i}`)
    r.add('/f5')
    expect(r.list()[0]).toBe('/f5')
    expect(r.list()).toHaveLength(MAX_RECENT)
    expect(new Set(r.list()).size).toBe(MAX_RECENT)
    r.add('/f5') // no change, no notification
    expect(changes).toHaveBeenCalledTimes(MAX_RECENT + 4)
  })

  it('survives a round trip through its file, and a corrupt file gives an empty list', () => {
    const r = new RecentFiles()
    r.add('/a')
    r.add('/b')
    expect(RecentFiles.fromText(r.toText()).list()).toEqual(['/b', '/a'])
    expect(RecentFiles.fromText('{ nope').list()).toEqual([])
    expect(RecentFiles.fromText('{"schema":"other","files":["/x"]}').list()).toEqual([])
    expect(RecentFiles.fromText(null).list()).toEqual([])
  })
})

describe('window state', () => {
  const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }]

  it('restores a window that is still on a display', () => {
    const text = windowStateText({ x: 100, y: 50, width: 1000, height: 700 }, true)
    expect(restoreWindowState(text, screen)).toEqual({ bounds: { x: 100, y: 50, width: 1000, height: 700 }, maximized: true })
  })

  it('forgets a position on a display that is gone, and unreadable state', () => {
    const text = windowStateText({ x: 2500, y: 50, width: 1000, height: 700 }, false)
    expect(restoreWindowState(text, screen)).toEqual({ maximized: false })
    expect(restoreWindowState('garbage', screen)).toEqual({ maximized: false })
    expect(restoreWindowState('{"x":0,"y":0,"width":10,"height":10,"maximized":false}', screen)).toEqual({ maximized: false })
    expect(restoreWindowState(null, screen)).toEqual({ maximized: false })
  })
})

describe('application menu', () => {
  function menu(platform: NodeJS.Platform = 'linux', recent: string[] = ['/home/u/a.samepage.json']) {
    const actions = { send: vi.fn(), guarded: vi.fn(), clearRecent: vi.fn(), openLink: vi.fn(), about: vi.fn(), openSample: vi.fn() } satisfies MenuActions
    const template = buildMenuTemplate({ platform, recent, presets: PRESETS, dev: false, actions })
    const find = (path: string[]): MenuItemConstructorOptions => {
      let items = template
      let item: MenuItemConstructorOptions | undefined
      for (const label of path) {
        item = items.find((i) => (i.label ?? '').replace(/&/g, '') === label)
        if (item === undefined) throw new Error(`no menu item ${path.join(' > ')}`)
        items = (item.submenu ?? []) as MenuItemConstructorOptions[]
      }
      return item!
    }
    const click = (path: string[]) => (find(path).click as () => void)()
    return { template, find, click, actions }
  }

  it('has File, Experiment, View and Help with the usual accelerators', () => {
    const m = menu()
    expect(m.template.map((i) => (i.label ?? i.role ?? '').replace(/&/g, ''))).toEqual(['File', 'editMenu', 'Experiment', 'View', 'Help'])
    expect(m.find(['File', 'New']).accelerator).toBe('CmdOrCtrl+N')
    expect(m.find(['File', 'Open...']).accelerator).toBe('CmdOrCtrl+O')
    expect(m.find(['File', 'Save']).accelerator).toBe('CmdOrCtrl+S')
    expect(m.find(['File', 'Save As...']).accelerator).toBe('CmdOrCtrl+Shift+S')
    expect(m.find(['File', 'Quit'])).toMatchObject({ role: 'quit', accelerator: 'CmdOrCtrl+Q' })
    expect(m.find(['Experiment', 'Run / Pause']).accelerator).toBe(EXPERIMENT_ACCELERATORS.runPause)
    for (const label of ['Open Result...', 'Export Charts...', 'Export Data...']) expect(m.find(['File', label]).accelerator).toBeTruthy()
  })

  it('sends menu actions; New, presets and recent files ask about unsaved changes first', () => {
    const m = menu()
    m.click(['File', 'Open...'])
    m.click(['Experiment', 'Step'])
    m.click(['File', 'New'])
    m.click(['Experiment', 'Presets', PRESETS[0].name])
    m.click(['File', 'Open Recent', 'a.samepage.json  —  /home/u'])
    expect(m.actions.send.mock.calls).toEqual([['open'], ['step']])
    expect(m.actions.guarded.mock.calls).toEqual([['new'], [{ preset: PRESETS[0].name }], [{ openRecent: '/home/u/a.samepage.json' }]])
  })

  it('lists every preset, and says when there are no recent files', () => {
    const m = menu('linux', [])
    expect((m.find(['Experiment', 'Presets']).submenu as MenuItemConstructorOptions[]).map((i) => i.label)).toEqual(PRESETS.map((p) => p.name))
    expect(m.find(['File', 'Open Recent', 'No Recent Files']).enabled).toBe(false)
    expect(m.find(['File', 'Open Recent', 'Clear Recent']).enabled).toBe(false)
  })

  it('Help opens documentation links and About', () => {
    const m = menu()
    m.click(['Help', 'Linux KSM Documentation'])
    m.click(['Help', 'About Samepage Lab'])
    expect(m.actions.openLink).toHaveBeenCalledWith(expect.stringMatching(/^https:\/\//))
    expect(m.actions.about).toHaveBeenCalled()
  })

  it('on macOS the app menu holds About and Quit', () => {
    const m = menu('darwin')
    expect(m.template[0].label).toBe('Samepage Lab')
    expect(() => m.find(['File', 'Quit'])).toThrow()
  })
})

describe('main process bundle', () => {
  it('never loads the engine: simulation happens only in the session worker', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url))
    const bundle = async (entry: string) => {
      const r = await build({ entryPoints: [join(root, entry)], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'error' })
      return { inputs: Object.keys(r.metafile.inputs), text: r.outputFiles[0].text }
    }
    const main = await bundle('src/main/index.ts')
    expect(main.inputs).toContain('src/main/ipc.ts')
    expect(main.inputs.filter((f) => /src\/core\/(engine|lane|guest|memory)\.ts$/.test(f))).toEqual([])
    // config.ts reads scanner defaults from the scanner modules; their classes are not kept.
    expect(main.text).not.toMatch(/\b(Engine|Lane|KsmScanner|HintScanner) = class\b/)
    const worker = await bundle('src/host/node/session-worker.ts')
    expect(worker.text).toMatch(/\bEngine = class\b/)
  })
})
