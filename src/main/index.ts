// Electron main process: windows, the application menu, dialogs and files, and the relay
// between each window's renderer and its simulation worker. Locked down per Electron's security
// checklist (sandbox, context isolation, CSP, no navigation, no new windows, no permissions).
// The decisions live in plain modules (security, ipc, files, document, menu, sessions,
// window-state) tested without Electron; this file wires them to Electron's objects.
import { app, BrowserWindow, dialog, ipcMain, Menu, MessageChannelMain, protocol, screen, session, shell } from 'electron'
import type { WebContents } from 'electron'
import { readFileSync } from 'node:fs'
import { workerResourceLimits } from '../host/node/worker-limits.ts'
import { nodeMemoryBudget } from '../host/node/memory-budget.ts'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { PRESETS } from '../core/experiment/presets.ts'
import { WorkerSession } from '../host/node/worker-session.ts'
import { ParallelLabClient } from '../core/experiment/parallel.ts'
import type { MenuActionWire } from '../preload/api.ts'
import { atomicWrite, atomicWriteSync } from './atomic.ts'
import { APP_NAME, DocumentState, interceptClose } from './document.ts'
import { askDiscard, discardHost } from './files.ts'
import { registerIpc, type WindowHost } from './ipc.ts'
import { buildMenuTemplate } from './menu.ts'
import { RecentFiles } from './recent.ts'
import {
  APP_SCHEME,
  appFileFor,
  CONTENT_SECURITY_POLICY,
  DEV_CONTENT_SECURITY_POLICY,
  isExternalDocsUrl,
  mayNavigate,
  permissionCheck,
  rendererLocation,
  rendererUrl,
  secureWebPreferences,
  withContentSecurityPolicy
} from './security.ts'
import type { RendererLocation } from './security.ts'
import { SessionHub } from './sessions.ts'
import { DEFAULT_SIZE, MIN_SIZE, restoreWindowState, windowStateText } from './window-state.ts'

// Built layout: out/main/index.js, out/main/session-worker.js, out/preload/index.cjs,
// out/renderer/index.html.
const PRELOAD_PATH = fileURLToPath(new URL('../preload/index.cjs', import.meta.url))
const BUILT_INDEX_HTML = fileURLToPath(new URL('../renderer/index.html', import.meta.url))
const SESSION_WORKER_PATH = fileURLToPath(new URL('./session-worker.js', import.meta.url))
/** The app's icon (resources/ at the top of the repo; packaged next to the app by electron-builder.yml). */
const ICON_PATH = fileURLToPath(new URL('../../resources/icon.png', import.meta.url))
/** Sample experiments bundled with the app (resources/samples): File > Open Sample... */
const SAMPLES_DIR = fileURLToPath(new URL('../../resources/samples', import.meta.url))

/** Wait this long after the last move or resize before storing the window's bounds. */
const WINDOW_STATE_DEBOUNCE_MS = 500

const renderer: RendererLocation = rendererLocation(process.env, BUILT_INDEX_HTML)
const dev = renderer.kind === 'url' || !app.isPackaged

const windows = new Map<number, WindowHost>()
let recent = new RecentFiles()
let quitting = false

const sessions = new SessionHub({
  createChannel: () => new MessageChannelMain(),
  // One worker thread per lane (src/core/experiment/parallel.ts), as `samepage run` runs lanes; each with
  // resource limits, so a lane that runs out of memory is an error event, not a dead main process.
  // A run whose estimated memory does not fit this machine is refused at load, as the CLI does.
  createSession: () =>
    new ParallelLabClient(() => new WorkerSession(() => new Worker(SESSION_WORKER_PATH, { resourceLimits: workerResourceLimits() })), { memoryBudget: nodeMemoryBudget })
})

function userDataFile(name: string): string {
  return join(app.getPath('userData'), name)
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** Applies the navigation and window-opening policy to any web contents the app creates. */
function lockDownWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!mayNavigate(url, true, renderer)) event.preventDefault()
  })
  // Every frame's navigations, sub-frames included (will-navigate sees only the top frame's).
  contents.on('will-frame-navigate', (details) => {
    if (!mayNavigate(details.url, details.isMainFrame, renderer)) details.preventDefault()
  })
  contents.on('will-redirect', (event, url) => {
    if (!mayNavigate(url, true, renderer)) event.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    openLink(url)
    return { action: 'deny' }
  })
}

/** Opens a link in the system browser if it goes to a host the app links to; anything else is dropped. */
function openLink(url: string): void {
  if (isExternalDocsUrl(url)) void shell.openExternal(url)
}

const policy = renderer.kind === 'url' ? DEV_CONTENT_SECURITY_POLICY : CONTENT_SECURITY_POLICY

/** Sets the CSP header on every response, serves app://, and refuses every permission. */
function lockDownSession(): void {
  const ses = session.defaultSession
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders, policy) })
  })
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  ses.setPermissionCheckHandler(permissionCheck)
  if (renderer.kind === 'app') {
    const root = renderer.root
    protocol.handle(APP_SCHEME, (request) => {
      const file = request.method === 'GET' ? appFileFor(request.url, root) : null
      const body = file === null ? null : readFileOrNull(file.path)
      if (file === null || body === null) return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } })
      return new Response(new Uint8Array(body), { headers: { 'content-type': file.type, 'content-security-policy': CONTENT_SECURITY_POLICY } })
    })
  }
}

function readFileOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path)
  } catch {
    return null
  }
}

function focusedHost(): WindowHost | undefined {
  const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0]
  return win === undefined ? undefined : windows.get(win.webContents.id)
}

function rebuildMenu(): void {
  const template = buildMenuTemplate({
    platform: process.platform,
    recent: recent.list(),
    presets: PRESETS,
    dev,
    actions: {
      send: (action) => focusedHost()?.sendMenu(action),
      guarded: (action) => {
        const host = focusedHost()
        if (host === undefined) return
        void askDiscard(host).then((ok) => {
          if (ok) sendMenu(host, action)
        })
      },
      clearRecent: () => recent.clear(),
      openLink,
      about: () => void showAbout(),
      openSample: () => {
        const host = focusedHost()
        if (host === undefined) return
        // The renderer's Open... asks main's open dialog, which starts in lastDir.
        host.lastDir = SAMPLES_DIR
        sendMenu(host, 'open')
      }
    }
  })
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}

function sendMenu(host: WindowHost, action: MenuActionWire): void {
  if (!host.window.isDestroyed()) host.window.webContents.send('menu:action', action)
}

async function showAbout(): Promise<void> {
  const host = focusedHost()
  const options = {
    type: 'info' as const,
    title: `About ${APP_NAME}`,
    message: `${APP_NAME} ${app.getVersion()}`,
    detail: `A laboratory for memory page sharing (KSM, hint-based scanning) on virtualized hosts.\n\nElectron ${process.versions.electron ?? '?'} · Chromium ${process.versions.chrome ?? '?'} · Node ${process.versions.node}`
  }
  if (host === undefined) await dialog.showMessageBox(options)
  else await dialog.showMessageBox(host.window, options)
}

function loadRecent(): void {
  const file = userDataFile('recent-files.json')
  recent = RecentFiles.fromText(readText(file))
  recent.onChange((files) => {
    rebuildMenu()
    if (files.length > 0) app.addRecentDocument(files[0])
    else app.clearRecentDocuments()
    atomicWrite(file, recent.toText()).catch((e: unknown) => console.warn(`could not store the recent files: ${String(e)}`))
  })
}

function createMainWindow(): BrowserWindow {
  const stateFile = userDataFile('window-state.json')
  const state = restoreWindowState(
    readText(stateFile),
    screen.getAllDisplays().map((d) => d.workArea)
  )
  const window = new BrowserWindow({
    title: APP_NAME,
    ...DEFAULT_SIZE,
    ...state.bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    show: false,
    icon: ICON_PATH,
    webPreferences: secureWebPreferences(PRELOAD_PATH)
  })
  if (state.maximized) window.maximize()
  const contentsId = window.webContents.id
  const host: WindowHost = {
    window,
    dialog,
    doc: new DocumentState(),
    recent,
    granted: new Set(),
    documentsDir: app.getPath('documents'),
    sendMenu: (action) => sendMenu(host, action),
    setTitle: (title) => window.setTitle(title)
  }
  windows.set(contentsId, host)

  // The title is main's (document name + dirty marker), not the page's <title>.
  window.on('page-title-updated', (event) => event.preventDefault())
  window.once('ready-to-show', () => window.show())

  let stateTimer: ReturnType<typeof setTimeout> | null = null
  const storeState = (): void => {
    if (window.isDestroyed()) return
    try {
      atomicWriteSync(stateFile, windowStateText(window.getNormalBounds(), window.isMaximized()))
    } catch (e) {
      console.warn(`could not store the window state: ${String(e)}`)
    }
  }
  const storeSoon = (): void => {
    if (stateTimer !== null) clearTimeout(stateTimer)
    stateTimer = setTimeout(storeState, WINDOW_STATE_DEBOUNCE_MS)
  }
  window.on('resize', storeSoon)
  window.on('move', storeSoon)

  window.on('close', (event) => {
    const mayClose = interceptClose(
      discardHost(host),
      () => {
        if (!window.isDestroyed()) window.close()
        if (quitting) app.quit()
      },
      () => {
        quitting = false
      }
    )
    if (!mayClose) {
      event.preventDefault()
      return
    }
    if (stateTimer !== null) clearTimeout(stateTimer)
    storeState()
  })
  window.on('closed', () => {
    windows.delete(contentsId)
    sessions.close(contentsId)
  })
  window.webContents.on('render-process-gone', () => sessions.close(contentsId))
  window.webContents.on('destroyed', () => sessions.close(contentsId))

  void window.loadURL(rendererUrl(renderer))
  return window
}

app.enableSandbox()
// app:// is a standard, secure origin (like https): its own origin for 'self', fetch and workers.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }])
app.on('web-contents-created', (_event, contents) => lockDownWebContents(contents))

void app.whenReady().then(() => {
  lockDownSession()
  loadRecent()
  registerIpc(ipcMain, {
    renderer,
    windowFor: (id) => windows.get(id),
    sessions,
    version: () => app.getVersion(),
    warn: (message) => console.warn(message)
  })
  rebuildMenu()
  createMainWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow()
  })
})

app.on('before-quit', () => {
  quitting = true
})

app.on('will-quit', () => sessions.closeAll())

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
