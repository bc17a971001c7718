/**
 * `createPlatform()`: the Platform of wherever the renderer runs. Electron's preload exposes
 * `window.samepage`; a plain browser has none and gets web mode.
 *
 * Test hook: when the page's URL has a `test` query parameter (`index.html?test`), the platform
 * is also set as `window.__samepageTest.platform`, so browser tests can drive the session and
 * files without going through the screens. Nothing else is exposed, and only on request.
 */
import { createElectronPlatform } from './electron.ts'
import type { Platform } from './types.ts'
import { createWebPlatform } from './web.ts'

export type { Platform } from './types.ts'

declare global {
  interface Window {
    /** Set by createPlatform() only when the URL asks for it (`?test`). */
    __samepageTest?: { platform: Platform }
  }
}

/** Whether a page with this query string asked for the test hook. */
export function wantsTestHook(search: string): boolean {
  return new URLSearchParams(search).has('test')
}

export function createPlatform(): Platform {
  const platform = window.samepage !== undefined ? createElectronPlatform(window.samepage) : createWebPlatform()
  if (wantsTestHook(window.location.search)) window.__samepageTest = { platform }
  return platform
}
