// ESLint flat config. Besides the usual recommended sets it enforces DESIGN.md's layer table:
// an import may only point down the list core <- host <- main / cli, core <- renderer, and the
// preload talks to nothing but electron. A wrong import fails `npm run lint` (and so `npm test`).
import { builtinModules } from 'node:module'
import { defineConfig } from 'eslint/config'
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import pluginVue from 'eslint-plugin-vue'
import globals from 'globals'

const SOURCE_EXTENSIONS = '{ts,mts,cts,tsx,js,mjs,cjs,vue}'

// Deepest folder nesting inside a layer that the layer rule covers (src/core/a/b/.../x.ts).
const MAX_LAYER_DEPTH = 8

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

// node:anything, plus the bare builtin names (fs, fs/promises, worker_threads, ...).
const NODE_BUILTINS = builtinModules.filter((m) => !m.startsWith('_'))
const NODE_BUILTIN_REGEX =
  '^(node:.*|(' + NODE_BUILTINS.map(escapeRegex).join('|') + '))$'

// Packages that only make sense in one runtime (Electron, the DOM, Node native code).
const ELECTRON_REGEX = '^electron(/.*)?$'
const VUE_REGEX = '^(vue|@vue/.*|vue-.*|@vitejs/.*)$'
const NATIVE_REGEX = '^(@napi-rs/.*|playwright(-core)?(/.*)?|tsx(/.*)?)$'
const CHARTJS_REGEX = '^chart\\.js(/.*)?$'

const ALL_LAYERS = ['core', 'host', 'main', 'preload', 'renderer', 'cli', 'kernel']

const layerMessage = (layer, what) => `src/${layer} may not import ${what} (DESIGN.md layers)`

// What each layer may import, straight from DESIGN.md's table. `packages` are bare module
// specifiers; `layers` are the other src/ folders it may reach by a relative path;
// `typeOnlyLayers` may be imported with `import type` only.
const LAYERS = {
  core: {
    layers: [],
    packages: [
      { regex: NODE_BUILTIN_REGEX, what: 'node:* or Node builtins' },
      { regex: ELECTRON_REGEX, what: 'electron' },
      { regex: VUE_REGEX, what: 'vue' },
      { regex: NATIVE_REGEX, what: 'Node-only packages' },
      { regex: CHARTJS_REGEX, what: 'chart.js at run time (type-only imports are fine)', allowTypeImports: true }
    ]
  },
  host: {
    layers: ['core'],
    packages: [
      { regex: NODE_BUILTIN_REGEX, what: 'node:* outside a node-specific file (*.node.ts or host/node/)' },
      { regex: ELECTRON_REGEX, what: 'electron' },
      { regex: VUE_REGEX, what: 'vue' },
      { regex: NATIVE_REGEX, what: 'Node-only packages outside a node-specific file' }
    ]
  },
  // src/host/**/*.node.ts and src/host/node/**: the Node worker glue.
  hostNode: {
    folder: 'host',
    layers: ['core'],
    packages: [
      { regex: ELECTRON_REGEX, what: 'electron' },
      { regex: VUE_REGEX, what: 'vue' }
    ]
  },
  main: {
    layers: ['core', 'host'],
    // Main implements the other end of the preload's API, so it may read its types.
    typeOnlyLayers: ['preload'],
    packages: [{ regex: VUE_REGEX, what: 'vue' }]
  },
  preload: {
    layers: [],
    typeOnlyLayers: ['core'],
    packages: [
      { regex: '^(?!electron(/|$))(?!\\.{1,2}(/|$))', what: "anything but electron's contextBridge/ipcRenderer" }
    ]
  },
  renderer: {
    layers: ['core'],
    typeOnlyLayers: ['preload'],
    packages: [
      { regex: NODE_BUILTIN_REGEX, what: 'node:* or Node builtins' },
      { regex: ELECTRON_REGEX, what: 'electron' },
      { regex: NATIVE_REGEX, what: 'Node-only packages' }
    ]
  },
  cli: {
    layers: ['core', 'host', 'kernel'],
    packages: [
      { regex: ELECTRON_REGEX, what: 'electron' },
      { regex: VUE_REGEX, what: 'vue' }
    ]
  },
  // The real kernel as a peer (DESIGN.md): sysfs, /proc, guest memory through koffi's FFI.
  kernel: {
    layers: ['core'],
    packages: [
      { regex: ELECTRON_REGEX, what: 'electron' },
      { regex: VUE_REGEX, what: 'vue' },
      { regex: '^(?!koffi$)(@napi-rs/.*|playwright(-core)?(/.*)?|tsx(/.*)?)$', what: 'Node-only packages other than koffi' }
    ]
  }
}

// The rule only sees the import specifier, so whether `../host/x` leaves the layer depends on
// how deep the importing file sits: one config per depth, so `../host.ts` from
// src/core/scanners/ is still core's own file while `../../host/x` is the host layer.
function layerPatterns(name, depth) {
  const spec = LAYERS[name]
  const layer = spec.folder ?? name
  const up = `^(\\.\\./){${depth + 1}}`
  const patterns = spec.packages.map(({ regex, what, allowTypeImports }) => ({
    regex,
    message: layerMessage(layer, what),
    ...(allowTypeImports ? { allowTypeImports: true } : {})
  }))
  const typeOnly = spec.typeOnlyLayers ?? []
  const forbidden = ALL_LAYERS.filter(
    (other) => other !== layer && !spec.layers.includes(other) && !typeOnly.includes(other)
  )
  if (forbidden.length > 0) {
    patterns.push({
      regex: `${up}(${forbidden.join('|')})(/|$)`,
      message: layerMessage(layer, `src/${forbidden.join(', src/')}`)
    })
  }
  for (const other of typeOnly) {
    patterns.push({
      regex: `${up}${other}(/|$)`,
      allowTypeImports: true,
      message: layerMessage(layer, `src/${other} except with \`import type\``)
    })
  }
  return patterns
}

function filesAtDepth(name, depth) {
  const nested = '*/'.repeat(depth)
  if (name === 'hostNode') {
    const files = [`src/host/${nested}*.node.${SOURCE_EXTENSIONS}`]
    if (depth >= 1) files.push(`src/host/node/${'*/'.repeat(depth - 1)}*.${SOURCE_EXTENSIONS}`)
    return files
  }
  return [`src/${name}/${nested}*.${SOURCE_EXTENSIONS}`]
}

// hostNode comes after host so that, for its files, it replaces host's options.
const layerConfigs = Object.keys(LAYERS).flatMap((name) =>
  Array.from({ length: MAX_LAYER_DEPTH + 1 }, (_, depth) => ({
    name: `samepage/layers/${name}/depth-${depth}`,
    files: filesAtDepth(name, depth),
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: layerPatterns(name, depth) }]
    }
  }))
)

export default defineConfig(
  { ignores: ['out/', 'dist/', 'coverage/', 'node_modules/', 'results/', 'tmp/', '.vite/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  pluginVue.configs['flat/recommended'],
  {
    name: 'samepage/vue-typescript',
    files: ['**/*.vue'],
    languageOptions: {
      parserOptions: {
        parser: tseslint.parser,
        extraFileExtensions: ['.vue'],
        sourceType: 'module'
      }
    }
  },
  {
    name: 'samepage/globals',
    languageOptions: { globals: { ...globals.node } }
  },
  {
    name: 'samepage/browser-globals',
    files: ['src/renderer/**', 'src/preload/**'],
    languageOptions: { globals: { ...globals.browser } }
  },
  {
    name: 'samepage/typescript-names',
    files: ['**/*.{ts,mts,cts,tsx,vue}'],
    // TypeScript checks names itself (and knows the DOM and Node types); no-undef only misfires.
    rules: { 'no-undef': 'off' }
  },
  {
    name: 'samepage/rules',
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_'
        }
      ]
    }
  },
  layerConfigs
)
