// Web mode: the renderer alone, for a plain browser, as a self-contained static folder
// (`npm run build:web` → out/web/). Asset URLs are relative, so the folder works from any
// static server and any path prefix; the session runs in a module Web Worker bundled next to
// the page. scripts/web.mjs (`npm run web`) rebuilds when .build-stamp is older than a source.
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig, type Plugin } from 'vite'

const root = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const OUT_DIR = root('./out/web')

/** Writes .build-stamp (the time the build started) into the output folder once it is written. */
function buildStamp(): Plugin {
  let started = 0
  let outDir = OUT_DIR
  return {
    name: 'samepage-build-stamp',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir)
    },
    buildStart() {
      started = Date.now()
    },
    closeBundle() {
      writeFileSync(join(outDir, '.build-stamp'), `${started}\n`)
    }
  }
}

export default defineConfig({
  root: root('./src/renderer'),
  base: './',
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    rollupOptions: { input: root('./src/renderer/index.html') }
  },
  worker: { format: 'es' },
  plugins: [vue(), buildStamp()]
})
