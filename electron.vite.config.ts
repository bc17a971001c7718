import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'
import type { Plugin } from 'vite'

/**
 * The dev server injects each stylesheet as an inline <style>: only while developing, the page's
 * CSP allows inline styles (the built app does not; src/main/security.ts).
 */
function devInlineStyles(): Plugin {
  return {
    name: 'samepage-dev-inline-styles',
    apply: 'serve',
    transformIndexHtml: (html) => html.replace("style-src 'self';", "style-src 'self' 'unsafe-inline';")
  }
}

// Main and preload run in Node/Electron; the renderer is the same Vue app that web mode serves
// (vite.web.config.ts builds it alone for a plain browser). The preload runs sandboxed, so it
// must be one CommonJS file. The session worker is a second entry of main: main starts it
// with worker_threads from out/main/session-worker.js.
export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          'session-worker': resolve(__dirname, 'src/host/node/session-worker.ts')
        }
      }
    }
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    // Relative asset URLs: the build loads from app://samepage/ in Electron and from any folder
    // on a static server in web mode.
    base: './',
    build: { rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } } },
    // Web mode's Web Worker (platform/web.ts) is bundled as an ES module.
    worker: { format: 'es' },
    plugins: [vue(), devInlineStyles()]
  }
})
