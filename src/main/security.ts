// The security decisions of the main process, as plain functions of URLs and strings so they
// can be tested without Electron. index.ts wires them to Electron's events.
import { pathToFileURL } from 'node:url'

/**
 * The Content Security Policy of every page the app shows. index.html carries the same policy
 * in a <meta http-equiv> tag, because file:// pages get no response headers to add it to.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "worker-src 'self' blob:"
].join('; ')

/** Where the renderer is loaded from: the dev server in `electron-vite dev`, else the build. */
export type RendererLocation = { kind: 'url'; url: string } | { kind: 'file'; path: string }

/**
 * The renderer of this run: ELECTRON_RENDERER_URL (set by `electron-vite dev`) when it is an
 * http(s) URL, otherwise the built index.html at `builtIndexHtml`.
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
  return { kind: 'file', path: builtIndexHtml }
}

/**
 * Whether `url` is a page of the app itself: the dev server's origin, or exactly the built
 * index.html (any query or fragment). Used to accept IPC senders and navigations.
 */
export function isAppUrl(url: string, location: RendererLocation): boolean {
  const parsed = parseUrl(url)
  if (parsed === undefined) return false
  if (location.kind === 'url') {
    const app = parseUrl(location.url)
    return app !== undefined && parsed.origin === app.origin && parsed.protocol === app.protocol
  }
  if (parsed.protocol !== 'file:') return false
  const app = pathToFileURL(location.path)
  return parsed.host === app.host && decodeURIComponent(parsed.pathname) === decodeURIComponent(app.pathname)
}

/**
 * Whether a link the page asked to open may go to the user's browser: plain http(s) documents
 * only (no file:, javascript:, custom schemes, or user:password@ URLs).
 */
export function isExternalDocsUrl(url: string): boolean {
  const parsed = parseUrl(url)
  if (parsed === undefined) return false
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false
  return parsed.username === '' && parsed.password === ''
}

/** Response headers with the app's CSP set, replacing any CSP the response carried. */
export function withContentSecurityPolicy(
  headers: Record<string, string[]> | undefined
): Record<string, string[]> {
  const result: Record<string, string[]> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') result[name] = value
  }
  result['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY]
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
