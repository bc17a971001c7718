/**
 * Entry of the browser's Web Worker (web mode): the same Session as the Electron worker, over
 * the worker's global postMessage. The renderer starts it with
 * `new Worker(new URL('../../../host/web-worker.ts', import.meta.url), { type: 'module' })`.
 */
import type { SessionEvent } from '../core/experiment/protocol.ts'
import { serveSession } from './serve.ts'

/** What this file uses of a DedicatedWorkerGlobalScope (src/host is type-checked without the DOM lib). */
interface WorkerScope {
  postMessage(message: SessionEvent, transfer: ArrayBuffer[]): void
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void
}

const scope = globalThis as unknown as WorkerScope

serveSession({
  post: (event, transfer) => scope.postMessage(event, transfer),
  listen: (handler) => scope.addEventListener('message', (e) => handler(e.data))
})
