// The main process's security decisions (src/main/security.ts), tested without Electron.
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  CONTENT_SECURITY_POLICY,
  isAppUrl,
  isExternalDocsUrl,
  rendererLocation,
  secureWebPreferences,
  withContentSecurityPolicy
} from '../src/main/security.ts'
import type { RendererLocation } from '../src/main/security.ts'

const BUILT = '/opt/samepage/out/renderer/index.html'
const FILE: RendererLocation = { kind: 'file', path: BUILT }
const DEV: RendererLocation = { kind: 'url', url: 'http://localhost:5173/' }

describe('rendererLocation', () => {
  it('uses the electron-vite dev server when ELECTRON_RENDERER_URL is set', () => {
    expect(rendererLocation({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, BUILT)).toEqual(DEV)
  })

  it('falls back to the built index.html without a usable dev URL', () => {
    expect(rendererLocation({}, BUILT)).toEqual(FILE)
    expect(rendererLocation({ ELECTRON_RENDERER_URL: '' }, BUILT)).toEqual(FILE)
    expect(rendererLocation({ ELECTRON_RENDERER_URL: 'file:///etc/passwd' }, BUILT)).toEqual(FILE)
    expect(rendererLocation({ ELECTRON_RENDERER_URL: 'not a url' }, BUILT)).toEqual(FILE)
  })
})

describe('isAppUrl', () => {
  it('accepts the built index.html, with or without a fragment', () => {
    const url = pathToFileURL(BUILT).href
    expect(isAppUrl(url, FILE)).toBe(true)
    expect(isAppUrl(`${url}#/results`, FILE)).toBe(true)
  })

  it('refuses other files and other schemes in file mode', () => {
    expect(isAppUrl('file:///etc/passwd', FILE)).toBe(false)
    expect(isAppUrl(pathToFileURL('/opt/samepage/out/renderer/other.html').href, FILE)).toBe(false)
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
  it('lets plain http(s) links open in the browser', () => {
    expect(isExternalDocsUrl('https://docs.kernel.org/admin-guide/mm/ksm.html')).toBe(true)
    expect(isExternalDocsUrl('http://example.org/paper.pdf')).toBe(true)
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
