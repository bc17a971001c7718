// The security decisions of the main process, as plain functions of URLs and strings so they
// can be tested without Electron. index.ts wires them to Electron's events.
import { extname, isAbsolute, join, normalize, relative, sep } from 'node:path'

/**
 * The Content Security Policy of every page the app shows (a response header on app:// and
 * the dev server; index.html carries the same in a <meta http-equiv> tag for web mode). No
 * inline styles: Vue's style bindings and Chart.js set styles through the CSSOM, which CSP
 * allows. base-uri and form-action 'none': a page cannot re-point its relative URLs or post a
 * form anywhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'"
].join('; ')

/** The dev server's policy: Vite injects each stylesheet as an inline <style> while developing. */
export const DEV_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

/** The app's own scheme: the built renderer is served from app://samepage/, not file://. */
export const APP_SCHEME = 'app'
export const APP_HOST = 'samepage'
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/index.html`

/**
 * Where the renderer is loaded from: the dev server in `electron-vite dev`, else the built
 * renderer folder served on app://samepage/.
 */
export type RendererLocation = { kind: 'url'; url: string } | { kind: 'app'; root: string }

/**
 * The renderer of this run: ELECTRON_RENDERER_URL (set by `electron-vite dev`) when it is an
 * http(s) URL, otherwise the folder of the built index.html at `builtIndexHtml`.
 */
export function rendererLocation(
  env: Record<string, string | undefined>,
  builtIndexHtml: string
): RendererLocation {
  const devUrl = env.ELECTRON_RENDERER_URL
  if (devUrl !== undefined && devUrl !== '') {
    const parsed = parseUrl(devUrl)
    if (parsed !== undefined && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) {
      return { kind: 'url', url: parsed.href }
    }
  }
  return { kind: 'app', root: normalize(join(builtIndexHtml, '..')) }
}

/** The URL a window loads: the dev server's, or the app scheme's index.html. */
export function rendererUrl(location: RendererLocation): string {
  return location.kind === 'url' ? location.url : APP_INDEX_URL
}

/**
 * Whether `url` is a page of the app itself: the dev server's origin, or exactly
 * app://samepage/index.html (any query or fragment). Used to accept IPC senders and navigations.
 */
export function isAppUrl(url: string, location: RendererLocation): boolean {
  const parsed = parseUrl(url)
  if (parsed === undefined) return false
  if (location.kind === 'url') {
    const app = parseUrl(location.url)
    return app !== undefined && parsed.origin === app.origin && parsed.protocol === app.protocol
  }
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.port === '' && parsed.pathname === '/index.html'
}

/**
 * Whether a frame may navigate to `url` (will-navigate, will-frame-navigate, will-redirect):
 * only the top frame, only to the app's page. The app has no sub-frames; one that appears may
 * not navigate anywhere.
 */
export function mayNavigate(url: string, isMainFrame: boolean, location: RendererLocation): boolean {
  return isMainFrame && isAppUrl(url, location)
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm'
}

/**
 * The file an app://samepage/ request is answered with: a file under `root` (the built renderer)
 * with its MIME type, or null for anything else (another host, a path that leaves the folder,
 * an unknown type). Only GET of plain files; the handler answers null with 404.
 */
export function appFileFor(url: string, root: string): { path: string; type: string } | null {
  const parsed = parseUrl(url)
  if (parsed === undefined || parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null
  let pathname: string
  try {
    pathname = decodeURIComponent(parsed.pathname)
  } catch {
    return null
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null
  const path = normalize(join(root, pathname === '/' ? 'index.html' : pathname))
  const rel = relative(root, path)
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) return null
  const type = MIME[extname(path).toLowerCase()]
  return type === undefined ? null : { path, type }
}

/** Hosts the app links to (the Help menu): the only ones shell.openExternal opens. */
export const EXTERNAL_LINK_HOSTS: readonly string[] = ['docs.kernel.org']

/**
 * Whether a link may go to the user's browser: https, to a host the app links to
 * (EXTERNAL_LINK_HOSTS), no user:password@, no port. Anything else is dropped.
 */
export function isExternalDocsUrl(url: string): boolean {
  const parsed = parseUrl(url)
  if (parsed === undefined) return false
  if (parsed.protocol !== 'https:') return false
  if (parsed.username !== '' || parsed.password !== '' || parsed.port !== '') return false
  return EXTERNAL_LINK_HOSTS.includes(parsed.hostname)
}

/** What the permission check handler answers for every permission: no. */
export function permissionCheck(): boolean {
  return false
}

/** Response headers with the app's CSP set, replacing any CSP the response carried. */
export function withContentSecurityPolicy(
  headers: Record<string, string[]> | undefined,
  policy: string = CONTENT_SECURITY_POLICY
): Record<string, string[]> {
  const result: Record<string, string[]> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') result[name] = value
  }
  result['Content-Security-Policy'] = [policy]
  return result
}

/** The webPreferences of every app window: isolated, sandboxed, no Node in the page. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false
  } as const
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}
