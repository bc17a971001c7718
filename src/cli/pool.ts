/**
 * Tasks on a pool of worker threads, for `samepage run` (one lane per task) and `samepage
 * reproduce` (one experiment per task). Workers run the bundled CLI file itself: a module
 * registers its task handler with `serveTasks(role, handler)`, which does nothing outside a
 * worker of that role, and `runTasks(role, ...)` starts workers of that role.
 */
import { isMainThread, parentPort, Worker, workerData, type ResourceLimits } from 'node:worker_threads'
import { isWorkerOutOfMemory, WorkerMemoryError, workerResourceLimits } from '../host/node/worker-limits.ts'
import { InvariantError } from '../core/experiment/invariants.ts'

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

/** What streamTasks reports as tasks end. */
export interface TaskEvents<R> {
  /** A task's fraction done (once per percent). */
  progress?: (index: number, fraction: number) => void
  done: (index: number, result: R) => void
  /** The task threw (or its worker died); the others go on. */
  failed: (index: number, message: string) => void
}

/** When each task ran, on which worker (performance.now() ms), for utilisation figures. */
export interface PoolTimeline {
  threads: number
  startMs: number
  endMs: number
  /** When the last task was handed to a worker: until then every idle worker had work waiting. */
  lastDispatchMs: number
  tasks: { worker: number; startMs: number; endMs: number }[]
}

/**
 * Run `tasks` in order on up to `threads` workers of `role`, reporting each result as it comes
 * (a sweep writes every point as soon as it is done, so a killed sweep loses only the points in
 * flight). Unlike runTasks, a failed task does not stop the others; a worker that dies is
 * replaced. Resolves when every task has ended, with when each ran.
 */
export async function streamTasks<T, R>(role: string, moduleUrl: URL, tasks: T[], threads: number, events: TaskEvents<R>): Promise<PoolTimeline> {
  const n = Math.max(1, Math.min(threads, tasks.length))
  const timeline: PoolTimeline = { threads: n, startMs: performance.now(), endMs: 0, lastDispatchMs: 0, tasks: tasks.map(() => ({ worker: -1, startMs: 0, endMs: 0 })) }
  let next = 0
  const live = new Set<Worker>()
  const slot = async (worker: number): Promise<void> => {
    while (next < tasks.length) {
      const w = new Worker(moduleUrl, { workerData: { role } })
      live.add(w)
      // One worker serves tasks until it dies; then a new one takes the next task.
      await new Promise<void>((resolve) => {
        let current = -1
        let ended = false
        const feed = () => {
          if (next >= tasks.length) {
            ended = true
            return resolve()
          }
          current = next++
          const t = timeline.tasks[current]
          t.worker = worker
          t.startMs = performance.now()
          if (next === tasks.length) timeline.lastDispatchMs = t.startMs
          w.postMessage({ index: current, task: tasks[current] })
        }
        const finish = (fn: () => void) => {
          timeline.tasks[current].endMs = performance.now()
          current = -1
          fn()
          feed()
        }
        w.on('message', (m: Message<R>) => {
          if (m.type === 'progress') events.progress?.(m.index, m.fraction)
          else if (m.type === 'done') finish(() => events.done(m.index, m.result))
          else finish(() => events.failed(m.index, m.message))
        })
        const died = (why: string) => {
          if (ended) return
          ended = true
          if (current >= 0) {
            timeline.tasks[current].endMs = performance.now()
            events.failed(current, why)
          }
          resolve()
        }
        w.on('error', (e) => died(`a worker failed: ${e.message}`))
        w.on('exit', (code) => died(`a worker exited with code ${code}`))
        feed()
      })
      live.delete(w)
      await w.terminate()
    }
  }
  try {
    await Promise.all(Array.from({ length: n }, (_, i) => slot(i)))
  } finally {
    await Promise.all([...live].map((w) => w.terminate()))
  }
  timeline.endMs = performance.now()
  if (tasks.length === 0) timeline.lastDispatchMs = timeline.endMs
  return timeline
}

/**
 * Share of the workers' time spent in tasks: over the whole run, and while tasks were still
 * waiting (until the last was handed out; the tail after it cannot be filled by any pool).
 */
export function poolUtilisation(t: PoolTimeline): { whole: number; whileQueued: number } {
  const busyUntil = (limit: number) => t.tasks.reduce((s, x) => s + Math.max(0, Math.min(x.endMs, limit) - Math.min(x.startMs, limit)), 0)
  const whole = busyUntil(t.endMs) / (t.threads * Math.max(1e-9, t.endMs - t.startMs))
  const whileQueued = busyUntil(t.lastDispatchMs) / (t.threads * Math.max(1e-9, t.lastDispatchMs - t.startMs))
  return { whole, whileQueued }
}
