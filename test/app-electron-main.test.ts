// src/main/index.ts wired to a fake `electron`: the window it creates, its lock-down, the IPC
// handlers answering the app page, a session relayed from a real worker thread to the
// renderer's port, the unsaved-changes prompt on close, and the files it keeps in userData.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MessagePort } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { METRIC_INDEX } from '../src/core/experiment/metrics.ts'
import type { SessionEvent } from '../src/core/experiment/protocol.ts'
import { VALID_TEXT } from './app-fakes.ts'
import { bundleSessionWorker } from './worker-bundle.ts'

type Fn = (...args: never[]) => unknown
type Handler = (event: unknown, ...args: unknown[]) => unknown

/** State shared between the fake modules and the tests (vi.mock factories are hoisted). */
const fx = vi.hoisted(() => {
  class Emitter {
    readonly listeners = new Map<string, Fn[]>()
    on(name: string, fn: Fn) {
      this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn])
      return this
    }
    once(name: string, fn: Fn) {
      return this.on(name, fn)
    }
    emit(name: string, ...args: unknown[]) {
      for (const fn of this.listeners.get(name) ?? []) (fn as (...a: unknown[]) => unknown)(...args)
    }
  }
  const preventable = () => {
    const e = { defaultPrevented: false, preventDefault: () => (e.defaultPrevented = true) }
    return e
  }
  return {
    Emitter,
    preventable,
    workerFile: '',
    userData: '',
    documents: '',
    windows: [] as {
      opts: Record<string, unknown>
      loaded: string
      title: string
      destroyed: boolean
      webContents: Emitter & { id: number; sent: unknown[][]; posted: unknown[][]; openHandler: (d: { url: string }) => { action: string } }
      close(): void
    }[],
    handlers: new Map<string, Handler>(),
    listeners: new Map<string, Handler>(),
    menus: [] as { label?: string; submenu?: unknown }[][],
    messageResponses: [] as number[],
    messages: [] as string[],
    openResponses: [] as string[][],
    opened: [] as string[],
    onHeaders: null as null | ((details: unknown, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void),
    onPermission: null as null | ((c: unknown, p: string, cb: (ok: boolean) => void) => void),
    onPermissionCheck: null as null | ((...args: unknown[]) => unknown),
    schemes: [] as unknown[],
    protocolHandlers: new Map<string, (req: { url: string; method: string }) => Response | Promise<Response>>(),
    app: null as null | InstanceType<typeof Emitter>
  }
})

vi.mock('electron', async () => {
  const { MessageChannel } = await import('node:worker_threads')
  let ids = 0
  const app = Object.assign(new fx.Emitter(), {
    enableSandbox: vi.fn(),
    whenReady: () => Promise.resolve(),
    getPath: (name: string) => (name === 'userData' ? fx.userData : fx.documents),
    getVersion: () => '9.9.9',
    isPackaged: true,
    quit: vi.fn(),
    addRecentDocument: vi.fn(),
    clearRecentDocuments: vi.fn()
  })
  fx.app = app
  class WebContents extends fx.Emitter {
    readonly id = ++ids
    readonly sent: unknown[][] = []
    readonly posted: unknown[][] = []
    openHandler: (d: { url: string }) => { action: string } = () => ({ action: 'allow' })
    setWindowOpenHandler(h: (d: { url: string }) => { action: string }) {
      this.openHandler = h
    }
    send(...args: unknown[]) {
      this.sent.push(args)
    }
    postMessage(...args: unknown[]) {
      this.posted.push(args)
    }
  }
  class BrowserWindow extends fx.Emitter {
    readonly webContents = new WebContents()
    loaded = ''
    title = ''
    destroyed = false
    constructor(readonly opts: Record<string, unknown>) {
      super()
      this.title = String(opts.title)
      fx.windows.push(this)
      app.emit('web-contents-created', {}, this.webContents)
    }
    static getAllWindows() {
      return fx.windows.filter((w) => !w.destroyed)
    }
    static getFocusedWindow() {
      return BrowserWindow.getAllWindows()[0] ?? null
    }
    loadFile(path: string) {
      this.loaded = path
      return Promise.resolve()
    }
    loadURL(url: string) {
      this.loaded = url
      return Promise.resolve()
    }
    show() {}
    maximize() {}
    setTitle(t: string) {
      this.title = t
    }
    isDestroyed() {
      return this.destroyed
    }
    isMaximized() {
      return false
    }
    getNormalBounds() {
      return { x: 10, y: 20, width: 1000, height: 700 }
    }
    close() {
      const e = fx.preventable()
      this.emit('close', e)
      if (e.defaultPrevented) return
      this.destroyed = true
      this.emit('closed')
    }
  }
  const box = async (...args: unknown[]) => {
    const opts = args[args.length - 1] as { message: string }
    fx.messages.push(opts.message)
    const response = fx.messageResponses.shift()
    if (response === undefined) throw new Error(`unexpected message box: ${opts.message}`)
    return { response, checkboxChecked: false }
  }
  return {
    app,
    BrowserWindow,
    MessageChannelMain: MessageChannel,
    ipcMain: {
      handle: (channel: string, h: Handler) => fx.handlers.set(channel, h),
      on: (channel: string, h: Handler) => fx.listeners.set(channel, h)
    },
    dialog: {
      showMessageBox: box,
      showOpenDialog: async () => {
        const next = fx.openResponses.shift()
        if (next === undefined) throw new Error('unexpected open dialog')
        return { canceled: next.length === 0, filePaths: next }
      },
      showSaveDialog: async () => {
        throw new Error('unexpected save dialog')
      }
    },
    Menu: {
      buildFromTemplate: (t: unknown) => t,
      setApplicationMenu: (m: { label?: string }[]) => fx.menus.push(m)
    },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (fn: typeof fx.onHeaders) => (fx.onHeaders = fn) },
        setPermissionRequestHandler: (fn: typeof fx.onPermission) => (fx.onPermission = fn),
        setPermissionCheckHandler: (fn: typeof fx.onPermissionCheck) => (fx.onPermissionCheck = fn)
      }
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => fx.schemes.push(...schemes),
      handle: (scheme: string, fn: (req: { url: string; method: string }) => Response) => fx.protocolHandlers.set(scheme, fn)
    },
    shell: { openExternal: async (url: string) => fx.opened.push(url) }
  }
})

// Main starts workers from out/main/session-worker.js; here, from the test's bundle of it.
vi.mock('node:worker_threads', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:worker_threads')>()
  class BundledWorker extends actual.Worker {
    constructor(_file: string | URL, options?: import('node:worker_threads').WorkerOptions) {
      super(fx.workerFile, options)
    }
  }
  return { ...actual, Worker: BundledWorker }
})

let root: string

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'samepage-app-'))
  fx.userData = join(root, 'userData')
  fx.documents = join(root, 'documents')
  for (const d of [fx.userData, fx.documents]) (await import('node:fs')).mkdirSync(d)
  fx.workerFile = await bundleSessionWorker(root)
  await import('../src/main/index.ts')
  await vi.waitFor(() => expect(fx.windows).toHaveLength(1))
})

afterAll(() => {
  for (const w of fx.windows) w.destroyed = true
  fx.app?.emit('will-quit')
  rmSync(root, { recursive: true, force: true })
})

const win = () => fx.windows[0]
const appUrl = () => win().loaded
const fromApp = (url = appUrl()) => ({ sender: win().webContents, senderFrame: { url, parent: null } })
const invoke = (channel: string, ...args: unknown[]) => fx.handlers.get(channel)!(fromApp(), ...args)
const send = (channel: string, ...args: unknown[]) => fx.listeners.get(channel)!(fromApp(), ...args)

describe('Electron main process (fake electron)', () => {
  it('creates one sandboxed, isolated window showing the built renderer, and the menu', () => {
    expect(win().opts.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, preload: expect.stringMatching(/preload[\\/]index\.cjs$/) })
    expect(win().loaded).toBe('app://samepage/index.html')
    expect(win().opts.icon).toMatch(/resources[\\/]icon\.png$/)
    expect(existsSync(win().opts.icon as string)).toBe(true)
    expect(fx.menus.at(-1)?.map((m) => m.label)).toEqual(['&File', undefined, '&Experiment', '&View', '&Help'])
  })

  it('refuses permissions, sets the CSP, blocks navigation and opens only links to the allowed hosts outside', () => {
    let granted: boolean | undefined
    fx.onPermission!({}, 'camera', (ok) => (granted = ok))
    expect(granted).toBe(false)
    let headers: Record<string, string[]> = {}
    fx.onHeaders!({ responseHeaders: { 'content-security-policy': ['default-src *'] } }, (r) => (headers = r.responseHeaders))
    expect(headers['Content-Security-Policy'][0]).toContain("script-src 'self'")

    const away = fx.preventable()
    win().webContents.emit('will-navigate', away, 'https://evil.example/')
    expect(away.defaultPrevented).toBe(true)
    const home = fx.preventable()
    win().webContents.emit('will-navigate', home, appUrl())
    expect(home.defaultPrevented).toBe(false)

    expect(win().webContents.openHandler({ url: 'https://docs.kernel.org/admin-guide/mm/ksm.html' })).toEqual({ action: 'deny' })
    expect(win().webContents.openHandler({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' })
    expect(win().webContents.openHandler({ url: 'https://evil.example/' })).toEqual({ action: 'deny' })
    expect(fx.opened).toEqual(['https://docs.kernel.org/admin-guide/mm/ksm.html'])
  })

  it('serves the built renderer on app:// with the CSP, and nothing outside its folder', async () => {
    expect(fx.schemes).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }])
    const serve = fx.protocolHandlers.get('app')!
    const index = await serve({ url: 'app://samepage/index.html', method: 'GET' })
    expect(index.status).toBe(200)
    expect(index.headers.get('content-security-policy')).toContain("base-uri 'none'")
    expect(await index.text()).toContain('<div id="app"></div>')
    expect((await serve({ url: 'app://samepage/..%2fmain%2findex.ts', method: 'GET' })).status).toBe(404)
    expect((await serve({ url: 'app://samepage/index.html', method: 'POST' })).status).toBe(404)
  })

  it('will-redirect, will-frame-navigate and will-attach-webview are refused away from the app; the permission check says no', () => {
    const redirect = fx.preventable()
    win().webContents.emit('will-redirect', redirect, 'https://evil.example/')
    expect(redirect.defaultPrevented).toBe(true)
    const selfRedirect = fx.preventable()
    win().webContents.emit('will-redirect', selfRedirect, appUrl())
    expect(selfRedirect.defaultPrevented).toBe(false)
    const sub = Object.assign(fx.preventable(), { url: appUrl(), isMainFrame: false })
    win().webContents.emit('will-frame-navigate', sub)
    expect(sub.defaultPrevented).toBe(true)
    const top = Object.assign(fx.preventable(), { url: 'https://evil.example/', isMainFrame: true })
    win().webContents.emit('will-frame-navigate', top)
    expect(top.defaultPrevented).toBe(true)
    const webview = fx.preventable()
    win().webContents.emit('will-attach-webview', webview, {}, {})
    expect(webview.defaultPrevented).toBe(true)
    expect(fx.onPermissionCheck!({}, 'clipboard-read', 'app://samepage', {})).toBe(false)
    expect(fx.onPermissionCheck!({}, 'media', 'app://samepage', {})).toBe(false)
  })

  it('answers the app page and refuses any other sender', async () => {
    expect(await invoke('app:version')).toBe('9.9.9')
    expect(() => fx.handlers.get('app:version')!(fromApp('https://evil.example/'))).toThrow(/refused/)
  })

  it('relays a session: a real worker thread, events on the port main hands the renderer', async () => {
    send('session:connect')
    const [channel, message, transfer] = win().webContents.posted[0] as [string, null, MessagePort[]]
    expect([channel, message]).toEqual(['session:port', null])
    const events: SessionEvent[] = []
    transfer[0].on('message', (e: SessionEvent) => events.push(e))
    send('session:load', JSON.parse(VALID_TEXT))
    send('session:step', 3)
    await vi.waitFor(() => expect(events.filter((e) => e.type === 'state').at(-1)).toEqual({ type: 'state', state: 'paused' }), { timeout: 10_000 })
    // Batches with rows (a batch may carry only timeline events).
    const samples = events.flatMap((e) => (e.type === 'samples' ? e.batches : [])).filter((b) => b.columns[METRIC_INDEX.t_s].length > 0)
    const t = samples.at(-1)!.columns[METRIC_INDEX.t_s]
    expect(t).toBeInstanceOf(Float64Array)
    expect(events.filter((e) => e.type === 'progress').at(-1)).toMatchObject({ simSeconds: 3 })
    expect(Array.from(t)).toEqual([0]) // the config samples every 10 s: only t = 0 so far
    transfer[0].close()
  })

  it('opens a config through the dialog and keeps it on the recent list in userData', async () => {
    const path = join(fx.documents, 'tiny.samepage.json')
    writeFileSync(path, VALID_TEXT)
    fx.openResponses.push([path])
    expect(await invoke('file:open-config')).toEqual({ name: 'tiny.samepage.json', path, text: VALID_TEXT })
    await vi.waitFor(() => expect(existsSync(join(fx.userData, 'recent-files.json'))).toBe(true))
    expect(JSON.parse(readFileSync(join(fx.userData, 'recent-files.json'), 'utf8')).files).toEqual([path])
    const file = fx.menus.at(-1)![0] as { submenu: { label: string; submenu?: { label: string }[] }[] }
    expect(file.submenu.find((i) => i.label === 'Open &Recent')!.submenu![0].label).toMatch(/^tiny\.samepage\.json/)
  })

  it('holds the close of a window with unsaved changes until the user agrees, then stores its bounds', async () => {
    send('doc:set-title', '● tiny — Samepage Lab', true)
    expect(win().title).toBe('● tiny — Samepage Lab')
    fx.messageResponses.push(2) // Cancel
    win().close()
    await vi.waitFor(() => expect(fx.messages).toHaveLength(1))
    await new Promise((r) => setTimeout(r, 50)) // the answer travels back
    expect(win().destroyed).toBe(false)

    fx.messageResponses.push(1) // Don't Save
    win().close()
    await vi.waitFor(() => expect(win().destroyed).toBe(true))
    expect(fx.messages[1]).toBe('Do you want to save the changes to "tiny"?')
    expect(JSON.parse(readFileSync(join(fx.userData, 'window-state.json'), 'utf8'))).toEqual({ x: 10, y: 20, width: 1000, height: 700, maximized: false })
  })
})
