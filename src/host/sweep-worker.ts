/**
 * Entry of a browser Web Worker that runs sweep runs for the app's Sweep view: each message is
 * one run (a resolved experiment config); the answer is its summary, or its error. The app
 * starts up to navigator.hardwareConcurrency of these. The same Engine as every other host.
 */
import { validateExperiment } from '../core/experiment/config.ts'
import { Engine } from '../core/experiment/engine.ts'
import type { SweepWorkerReply, SweepWorkerRequest } from '../core/sweep/worker-protocol.ts'

/** What this file uses of a DedicatedWorkerGlobalScope (src/host is type-checked without the DOM lib). */
interface WorkerScope {
  postMessage(message: SweepWorkerReply): void
  addEventListener(type: 'message', listener: (e: { data: SweepWorkerRequest }) => void): void
}

const scope = globalThis as unknown as WorkerScope

scope.addEventListener('message', ({ data: { id, config } }) => {
  try {
    const v = validateExperiment(config)
    if (!v.ok) throw new Error(`${v.issues[0].path}: ${v.issues[0].message}`)
    const engine = new Engine(v.config)
    let last = -1
    engine.run(
      (f) => {
        const pct = Math.floor(f * 100)
        if (pct === last) return
        last = pct
        scope.postMessage({ type: 'progress', id, fraction: f })
      },
      Math.max(v.config.sample_every_s, Math.min(60, v.config.duration_s / 100))
    )
    scope.postMessage({ type: 'done', id, lanes: engine.summary(0).lanes })
  } catch (e) {
    scope.postMessage({ type: 'error', id, message: (e as Error).message })
  }
})
