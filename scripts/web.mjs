#!/usr/bin/env node
// `npm run web`: build web mode into out/web/ if a source changed since the last build, then
// serve it on 127.0.0.1 until stopped (Ctrl+C). A tiny static server, no dependencies.
//
// Environment: PORT (default 5199; 0 picks a free port), BASE_PATH (default '/': the path
// prefix to serve under, e.g. '/lab/', to check that the build works from any prefix), WEB_DIR
// (default out/web: the folder to build into and serve; tests use a private one so they never
// serve a folder another build is rewriting). Prints one line `Samepage Lab web mode: <url>`
// once it listens.
import { spawnSync } from 'node:child_process'
import { createReadStream, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newestMtime } from '../bin/bundle.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DEFAULT_OUT = join(ROOT, 'out', 'web')
/** What the web build is made of: a change to any of these makes out/web stale. */
const INPUTS = ['src/renderer', 'src/core', 'src/host', 'vite.web.config.ts', 'package.json', 'package-lock.json']
const DEFAULT_PORT = 5199

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8'
}


/** Whether `dir` holds a web build made after the last change to any input. */
export function isWebBuildFresh(dir = DEFAULT_OUT) {
  let started
  try {
    started = Number(readFileSync(join(dir, '.build-stamp'), 'utf8'))
  } catch {
    return false
  }
  const newest = Math.max(...INPUTS.map((p) => newestMtime(join(ROOT, p))))
  return Number.isFinite(started) && newest < started
}

/** `npm run build:web`, into `dir`. */
export function buildWeb(dir = DEFAULT_OUT) {
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js')
  const r = spawnSync(process.execPath, [vite, 'build', '-c', 'vite.web.config.ts', '--outDir', dir, '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`the web build failed (exit code ${r.status})`)
}

/** '/lab' → '/lab/'; always starts and ends with '/'. */
function basePath(raw) {
  const trimmed = (raw ?? '/').trim().replace(/^\/*/, '/').replace(/\/*$/, '/')
  if (!/^[A-Za-z0-9/._~-]*$/.test(trimmed)) throw new Error(`BASE_PATH "${raw}" may hold only letters, digits and / . _ ~ -`)
  return trimmed
}

/** A static file server for `dir` under `base`; GET and HEAD only, no listing, no dotfiles. */
export function createStaticServer(dir, base) {
  return createServer((req, res) => {
    const send = (status, text, headers = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers })
      res.end(req.method === 'HEAD' ? undefined : text)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', { Allow: 'GET, HEAD' })
    let path
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)
    } catch {
      return send(400, 'bad request\n')
    }
    if (`${path}/` === base) return send(301, '', { Location: base })
    if (!path.startsWith(base)) return send(404, 'not found\n')
    const rel = path.slice(base.length) || 'index.html'
    const file = resolve(dir, normalize(rel))
    if (!file.startsWith(dir + sep) || rel.split('/').some((part) => part.startsWith('.'))) return send(404, 'not found\n')
    let st
    try {
      st = statSync(file)
    } catch {
      return send(404, 'not found\n')
    }
    const target = st.isDirectory() ? join(file, 'index.html') : file
    let size
    try {
      size = statSync(target).size
    } catch {
      return send(404, 'not found\n')
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(target)] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff'
    })
    if (req.method === 'HEAD') return res.end()
    createReadStream(target).pipe(res)
  })
}

async function main() {
  const port = process.env.PORT === undefined || process.env.PORT === '' ? DEFAULT_PORT : Number(process.env.PORT)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT "${process.env.PORT}" is not a port number`)
  const base = basePath(process.env.BASE_PATH)
  const dir = process.env.WEB_DIR ? resolve(process.env.WEB_DIR) : DEFAULT_OUT
  if (isWebBuildFresh(dir)) console.error(`${dir} is up to date`)
  else buildWeb(dir)
  const server = createStaticServer(dir, base)
  await new Promise((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolveListen)
  })
  const address = server.address()
  console.log(`Samepage Lab web mode: http://127.0.0.1:${address.port}${base}`)
  const stop = () => server.close(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`web: ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  })
}
