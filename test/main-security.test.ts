// The main process's security decisions (src/main/security.ts), tested without Electron.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  appFileFor,
  CONTENT_SECURITY_POLICY,
  isAppUrl,
  isExternalDocsUrl,
  mayNavigate,
  permissionCheck,
  rendererLocation,
  secureWebPreferences,
  withContentSecurityPolicy
} from '../src/main/security.ts'
import type { RendererLocation } from '../src/main/security.ts'

const BUILT = '/opt/samepage/out/renderer/index.html'
const FILE: RendererLocation = { kind: 'app', root: '/opt/samepage/out/renderer' }
const DEV: RendererLocation = { kind: 'url', url: 'http://localhost:5173/' }

describe('rendererLocation', () => {
  it('uses the electron-vite dev server when ELECTRON_RENDERER_URL is set', () => {
    expect(rendererLocation({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, BUILT)).toEqual(DEV)
  })

  it('falls back to the built renderer, served on app://, without a usable dev URL', () => {
    expect(rendererLocation({}, BUILT)).toEqual(FILE)
    expect(rendererLocation({ ELECTRON_RENDERER_URL: '' }, BUILT)).toEqual(FILE)
    expect(rendererLocation({ ELECTRON_RENDERER_URL: 'file:///etc/passwd' }, BUILT)).toEqual(FILE)
    expect(rendererLocation({ ELECTRON_RENDERER_URL: 'not a url' }, BUILT)).toEqual(FILE)
  })
})

describe('isAppUrl', () => {
  it('accepts app://samepage/index.html, with or without a fragment', () => {
    expect(isAppUrl('app://samepage/index.html', FILE)).toBe(true)
    expect(isAppUrl('app://samepage/index.html#/results', FILE)).toBe(true)
  })

  it('refuses file:// (the built index.html included), other app pages and other schemes', () => {
    expect(isAppUrl('file:///opt/samepage/out/renderer/index.html', FILE)).toBe(false)
    expect(isAppUrl('file:///etc/passwd', FILE)).toBe(false)
    expect(isAppUrl('app://samepage/other.html', FILE)).toBe(false)
    expect(isAppUrl('app://evil/index.html', FILE)).toBe(false)
    expect(isAppUrl('https://example.com/index.html', FILE)).toBe(false)
    expect(isAppUrl('about:blank', FILE)).toBe(false)
  })

  it("accepts only the dev server's own origin in dev mode", () => {
    expect(isAppUrl('http://localhost:5173/index.html', DEV)).toBe(true)
    expect(isAppUrl('http://localhost:5174/', DEV)).toBe(false)
    expect(isAppUrl('http://127.0.0.1:5173/', DEV)).toBe(false)
    expect(isAppUrl('https://localhost:5173/', DEV)).toBe(false)
  })

  it('refuses what is not a URL', () => {
    expect(isAppUrl('', FILE)).toBe(false)
    expect(isAppUrl('index.html', DEV)).toBe(false)
  })
})

describe('isExternalDocsUrl', () => {
  it('opens https links to the hosts the app links to, and nothing else', () => {
    expect(isExternalDocsUrl('https://docs.kernel.org/admin-guide/mm/ksm.html')).toBe(true)
    expect(isExternalDocsUrl('http://docs.kernel.org/admin-guide/mm/ksm.html')).toBe(false)
    expect(isExternalDocsUrl('https://example.org/paper.pdf')).toBe(false)
    expect(isExternalDocsUrl('https://docs.kernel.org.evil.example/')).toBe(false)
    expect(isExternalDocsUrl('https://docs.kernel.org:8443/')).toBe(false)
  })

  it('refuses other schemes and URLs with credentials', () => {
    expect(isExternalDocsUrl('file:///etc/passwd')).toBe(false)
    expect(isExternalDocsUrl('javascript:alert(1)')).toBe(false)
    expect(isExternalDocsUrl('smb://host/share')).toBe(false)
    expect(isExternalDocsUrl('https://user:secret@example.org/')).toBe(false)
    expect(isExternalDocsUrl('not a url')).toBe(false)
  })
})

describe('content security policy', () => {
  it('replaces any CSP a response carries with the app policy', () => {
    const headers = withContentSecurityPolicy({
      'content-security-policy': ["default-src *"],
      'Content-Type': ['text/html']
    })
    expect(headers).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY]
    })
  })

  it('allows no inline styles, no <base> and no form posts', () => {
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline')
    expect(CONTENT_SECURITY_POLICY).toContain("base-uri 'none'")
    expect(CONTENT_SECURITY_POLICY).toContain("form-action 'none'")
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'")
  })

  it('allows scripts only from the app itself', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'")
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval')
  })

  it('is the same policy as the <meta> tag of index.html', () => {
    const html = readFileSync(new URL('../src/renderer/index.html', import.meta.url), 'utf8')
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html)
    expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY)
  })
})

describe('secureWebPreferences', () => {
  it('keeps the sandbox and context isolation on and Node out of the page', () => {
    const prefs = secureWebPreferences('/opt/samepage/out/preload/index.cjs')
    expect(prefs).toMatchObject({
      preload: '/opt/samepage/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webviewTag: false
    })
  })
})

describe('navigation (will-navigate, will-frame-navigate, will-redirect)', () => {
  it('lets only the top frame go, and only to the app page', () => {
    expect(mayNavigate('app://samepage/index.html', true, FILE)).toBe(true)
    expect(mayNavigate('app://samepage/index.html', false, FILE)).toBe(false)
    expect(mayNavigate('https://example.com/', true, FILE)).toBe(false)
    expect(mayNavigate('file:///etc/passwd', true, FILE)).toBe(false)
  })
})

describe('the app:// protocol', () => {
  const ROOT = '/opt/samepage/out/renderer'
  it('serves files of the built renderer with their type', () => {
    expect(appFileFor('app://samepage/index.html', ROOT)).toEqual({ path: `${ROOT}/index.html`, type: 'text/html; charset=utf-8' })
    expect(appFileFor('app://samepage/assets/index-abc.js', ROOT)).toEqual({ path: `${ROOT}/assets/index-abc.js`, type: 'text/javascript; charset=utf-8' })
  })

  it('serves nothing outside that folder, on another host, or of an unknown type', () => {
    // The URL parser folds dot segments (also %2e%2e) at the root: they stay in the folder.
    expect(appFileFor('app://samepage/../../../etc/passwd.js', ROOT)?.path).toBe(`${ROOT}/etc/passwd.js`)
    expect(appFileFor('app://samepage/%2e%2e/%2e%2e/etc/passwd.js', ROOT)?.path).toBe(`${ROOT}/etc/passwd.js`)
    // Encoded slashes are decoded after parsing: a path that then leaves the folder is refused.
    expect(appFileFor('app://samepage/assets/..%2f..%2f..%2fsecret.js', ROOT)).toBeNull()
    expect(appFileFor('app://samepage/a%5c..%5c..%5cx.js', ROOT)).toBeNull()
    expect(appFileFor('app://other/index.html', ROOT)).toBeNull()
    expect(appFileFor('app://samepage/key.pem', ROOT)).toBeNull()
    expect(appFileFor('file:///opt/samepage/out/renderer/index.html', ROOT)).toBeNull()
  })
})

describe('permissions', () => {
  it('the permission check handler answers no', () => {
    expect(permissionCheck()).toBe(false)
  })
})
