/**
 * Tasks on a pool of worker threads, for `samepage run` (one lane per task) and `samepage
 * reproduce` (one experiment per task). Workers run the bundled CLI file itself: a module
 * registers its task handler with `serveTasks(role, handler)`, which does nothing outside a
 * worker of that role, and `runTasks(role, ...)` starts workers of that role.
 */
import { isMainThread, parentPort, Worker, workerData, type ResourceLimits } from 'node:worker_threads'
import { isWorkerOutOfMemory, WorkerMemoryError, workerResourceLimits } from '../host/node/worker-limits.ts'
import { InvariantError } from '../core/invariants.ts'

type Message<R> =
  | { type: 'progress'; index: number; fraction: number }
  | { type: 'done'; index: number; result: R }
  | { type: 'error'; index: number; message: string; invariant: boolean }

/**
 * In a worker started for `role`, answer each task with the handler's result. Progress is
 * reported once per percent; `transfer` lists buffers of a result to move, not copy.
 */
export function serveTasks<T, R>(role: string, handler: (task: T, onProgress: (f: number) => void) => R, transfer: (r: R) => ArrayBuffer[] = () => []): void {
  if (isMainThread || (workerData as { role?: string } | null)?.role !== role || !parentPort) return
  const port = parentPort
  port.on('message', ({ index, task }: { index: number; task: T }) => {
    try {
      let last = -1
      const result = handler(task, (fraction) => {
        const pct = Math.floor(fraction * 100)
        if (pct === last) return
        last = pct
        port.postMessage({ type: 'progress', index, fraction } satisfies Message<R>)
      })
      port.postMessage({ type: 'done', index, result } satisfies Message<R>, transfer(result))
    } catch (e) {
      port.postMessage({ type: 'error', index, message: (e as Error).message, invariant: e instanceof InvariantError } satisfies Message<R>)
    }
  })
}

/**
 * Run `tasks` on up to `threads` workers of `role` (started from `moduleUrl`, the bundle);
 * resolves with the results in task order. `onProgress` gets the mean fraction done. A task's
 * error rejects the whole run (an InvariantError stays one).
 */
export async function runTasks<T, R>(role: string, moduleUrl: URL, tasks: T[], threads: number, onProgress: (fraction: number) => void, limits?: ResourceLimits): Promise<R[]> {
  const results = new Array<R>(tasks.length)
  const progress = tasks.map(() => 0)
  let next = 0
  const report = () => onProgress(progress.reduce((a, b) => a + b, 0) / Math.max(1, tasks.length))
  const count = Math.max(1, Math.min(threads, tasks.length))
  const resourceLimits = limits ?? workerResourceLimits(count)
  const workers = Array.from({ length: count }, () => new Worker(moduleUrl, { workerData: { role }, resourceLimits }))
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next >= tasks.length) return resolve()
              const index = next++
              w.postMessage({ index, task: tasks[index] })
            }
            w.on('message', (m: Message<R>) => {
              if (m.type === 'progress') {
                progress[m.index] = m.fraction
                report()
              } else if (m.type === 'done') {
                results[m.index] = m.result
                progress[m.index] = 1
                report()
                feed()
              } else {
                reject(m.invariant ? new InvariantError(m.message) : new Error(m.message))
              }
            })
            // Out of memory: one line (exit 1) instead of a stack trace; this process lives on.
            w.on('error', (e) => reject(isWorkerOutOfMemory(e) ? new WorkerMemoryError(resourceLimits.maxOldGenerationSizeMb) : e))
            w.on('exit', (code) => reject(new Error(`a worker exited with code ${code}`)))
            feed()
          })
      )
    )
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
  return results
}
