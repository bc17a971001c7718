/**
 * The owner's side of a session hosted in a Node worker thread (session-worker.ts): a LabClient
 * whose engine runs off the owner's thread. The Electron main process holds one per renderer
 * session and only relays; it never simulates.
 *
 * Failure contract: if the worker throws an uncaught exception or exits on its own, listeners
 * get `{ type: 'error', message }` then `{ type: 'state', state: 'error' }`, and the owner keeps
 * running. The next command starts a fresh worker, first re-loading the last config the old
 * one accepted, so the user can run again without re-opening anything.
 */
import type { Worker } from 'node:worker_threads'
import { isWorkerOutOfMemory, WorkerMemoryError } from './worker-limits.ts'
import { CommandClient, type Command, type SessionEvent } from '../../core/experiment/protocol.ts'

export type WorkerFactory = () => Worker

export class WorkerSession extends CommandClient {
  private worker: Worker | null = null
  /** The config of the last 'loaded' event: what a replacement worker is given. */
  private lastLoaded: unknown = undefined
  private disposed = false

  constructor(private readonly spawn: WorkerFactory) {
    super()
  }

  /** Whether a worker thread is alive now (workers start at the first command). */
  get running(): boolean {
    return this.worker !== null
  }

  /** Send one (already validated) command to the worker, starting it if needed. */
  send(cmd: Command): void {
    if (this.disposed) throw new Error('the session was disposed')
    let worker = this.worker
    if (worker === null) {
      worker = this.spawnWorker()
      if (cmd.type !== 'load' && this.lastLoaded !== undefined) worker.postMessage({ type: 'load', config: this.lastLoaded })
    }
    worker.postMessage(cmd)
  }

  /** End the worker (if any) and drop the listeners; the session cannot be used again. */
  dispose(): void {
    this.disposed = true
    const w = this.worker
    this.worker = null
    this.listeners.clear()
    if (w !== null) void w.terminate()
  }

  private spawnWorker(): Worker {
    const w = this.spawn()
    this.worker = w
    w.on('message', (event: SessionEvent) => {
      if (this.worker !== w) return
      if (event.type === 'loaded') this.lastLoaded = event.config
      this.emit(event)
    })
    // Out of memory (resourceLimits): an error event in words; the owner (main) lives on.
    w.on('error', (err: Error) => this.crashed(w, isWorkerOutOfMemory(err) ? new WorkerMemoryError().message : err.message))
    w.on('exit', (code: number) => this.crashed(w, `the simulation worker stopped unexpectedly (exit code ${code})`))
    return w
  }

  private crashed(w: Worker, message: string): void {
    if (this.worker !== w) return // already handled, or disposed on purpose
    this.worker = null
    void w.terminate()
    this.emit({ type: 'error', message })
    this.emit({ type: 'state', state: 'error' })
  }

}
