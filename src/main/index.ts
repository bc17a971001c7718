// Electron main process: one window showing the renderer, locked down per Electron's security
// checklist (sandbox, context isolation, CSP, no navigation, no new windows, no permissions),
// and the IPC handlers behind the preload's API.
import { app, BrowserWindow, ipcMain, session, shell } from 'electron'
import type { IpcMainInvokeEvent, WebContents } from 'electron'
import { fileURLToPath } from 'node:url'
import type { SamepageChannel } from '../preload/api.ts'
import {
  isAppUrl,
  isExternalDocsUrl,
  rendererLocation,
  secureWebPreferences,
  withContentSecurityPolicy
} from './security.ts'
import type { RendererLocation } from './security.ts'

const APP_TITLE = 'Samepage Lab'

// Built layout: out/main/index.js, out/preload/index.cjs, out/renderer/index.html.
const PRELOAD_PATH = fileURLToPath(new URL('../preload/index.cjs', import.meta.url))
const BUILT_INDEX_HTML = fileURLToPath(new URL('../renderer/index.html', import.meta.url))

const renderer: RendererLocation = rendererLocation(process.env, BUILT_INDEX_HTML)

/** Applies the navigation and window-opening policy to any web contents the app creates. */
function lockDownWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, renderer)) event.preventDefault()
  })
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, renderer)) event.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalDocsUrl(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
}

/** Sets the CSP header on every response and refuses every permission request. */
function lockDownSession(): void {
  const ses = session.defaultSession
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) })
  })
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  ses.setPermissionCheckHandler(() => false)
}

/** Throws unless the IPC message comes from a frame showing the app's own page. */
function assertTrustedSender(event: IpcMainInvokeEvent, channel: SamepageChannel): void {
  const url = event.senderFrame?.url
  if (url === undefined || !isAppUrl(url, renderer)) {
    throw new Error(`${channel}: refused a message from ${url ?? 'a destroyed frame'}`)
  }
}

function registerIpcHandlers(): void {
  const channel: SamepageChannel = 'app:version'
  ipcMain.handle(channel, (event): string => {
    assertTrustedSender(event, channel)
    return app.getVersion()
  })
}

function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow({
    title: APP_TITLE,
    width: 1280,
    height: 800,
    show: false,
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(PRELOAD_PATH)
  })
  window.once('ready-to-show', () => window.show())
  if (renderer.kind === 'url') void window.loadURL(renderer.url)
  else void window.loadFile(renderer.path)
  return window
}

app.enableSandbox()
app.on('web-contents-created', (_event, contents) => lockDownWebContents(contents))

void app.whenReady().then(() => {
  lockDownSession()
  registerIpcHandlers()
  createMainWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
