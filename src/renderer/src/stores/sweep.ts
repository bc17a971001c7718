/**
 * The Sweep view's state: a sweep drafted on the current experiment (axes picked by field path,
 * values typed or a range, seeds, metrics), its expansion by the core (src/core/sweep), and its
 * runs on Web Workers (src/host/sweep-worker.ts), as many as navigator.hardwareConcurrency
 * allows. Results are kept by run hash, so a cancelled sweep resumes where it was and a run
 * changed back to an earlier setting is not run again. Files go through the Platform.
 */
import { computed, reactive, ref, shallowRef, toRaw } from 'vue'
import type { Experiment } from '../../../core/experiment/config.ts'
import { expandSweep, presetBase, runCost, SweepError, type SweepPlan } from '../../../core/sweep/expand.ts'
import { sweepCsv, sweepResult, type RunResult, type SweepResult } from '../../../core/sweep/results.ts'
import { DEFAULT_SWEEP_METRICS, SWEEP_SCHEMA_ID, validateSweep, type SweepInput, type SweepMetric } from '../../../core/sweep/schema.ts'
import { sweepCharts, slug } from '../../../core/sweep/charts.ts'
import type { SweepWorkerReply, SweepWorkerRequest } from '../../../core/sweep/worker-protocol.ts'
import type { ExportFile, Platform } from '../platform/types.ts'
import type { Notices } from './notices.ts'

export interface AxisDraft {
  path: string
  mode: 'values' | 'range'
  /** Comma-separated values (numbers, true/false, or text). */
  values: string
  from: number
  to: number
  steps: number
  scale: 'linear' | 'log'
}

/**
 * Simulated seconds x lanes one worker does per wall second before any run has finished here
 * (paper-fig6b in docs/performance.md: 270x to 400x real time for two lanes, so about 600).
 * The estimate uses the speed measured on this sweep's own finished runs after that.
 */
const DEFAULT_SPEED = 600

/** A worker's interface as the store uses it (the DOM's Worker). */
export interface SweepWorker {
  postMessage(m: SweepWorkerRequest): void
  onmessage: ((e: MessageEvent<SweepWorkerReply>) => void) | null
  onerror: ((e: Event) => void) | null
  terminate(): void
}

export function startSweepWorker(): SweepWorker {
  return new Worker(new URL('../../../host/sweep-worker.ts', import.meta.url), { type: 'module', name: 'samepage-sweep' }) as unknown as SweepWorker
}

function parseValue(s: string): unknown {
  const t = s.trim()
  if (t === 'true' || t === 'false') return t === 'true'
  if (t !== '' && Number.isFinite(Number(t))) return Number(t)
  return t
}

export function parseSeeds(text: string): number[] | string {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean)
  if (parts.length === 0) return 'give at least one seed'
  const seeds = parts.map(Number)
  if (seeds.some((n) => !Number.isInteger(n) || n < 0 || n > 0xffffffff)) return 'seeds are whole numbers from 0 to 4294967295, separated by commas'
  return seeds
}

export interface RunView {
  hash: string
  point: number
  seed: number
  coords: string
  state: 'queued' | 'running' | 'done' | 'failed' | 'cached'
  fraction: number
  message?: string
}

export function createSweepStore(opts: { base: () => Experiment | null; platform: Platform; notices: Notices; startWorker?: () => SweepWorker; concurrency?: () => number }) {
  const axes = reactive<AxisDraft[]>([])
  const seedsText = ref('42')
  const metrics = ref<SweepMetric[]>([...DEFAULT_SWEEP_METRICS])
  const name = ref('sweep')
  /** A base experiment from an opened sweep file; null: the current experiment. */
  const baseOverride = shallowRef<unknown>(null)
  const results = shallowRef(new Map<string, RunResult>())
  const runs = ref<RunView[]>([])
  const running = ref(false)
  const workerCount = ref(0)
  /** Simulated seconds x lanes per wall second per worker, measured on finished runs. */
  let speed = DEFAULT_SPEED
  let workers: SweepWorker[] = []
  const concurrency = opts.concurrency ?? (() => Math.max(1, Math.min(16, navigator.hardwareConcurrency || 1)))

  function axisInput(a: AxisDraft): NonNullable<SweepInput['axes']>[number] {
    if (a.mode === 'range') return { path: a.path.trim(), from: Number(a.from), to: Number(a.to), steps: Number(a.steps), scale: a.scale }
    return { path: a.path.trim(), values: a.values.split(',').filter((s) => s.trim() !== '').map(parseValue) as never[] }
  }

  /** The sweep document: what Save writes and the plan expands. */
  const doc = computed<SweepInput | null>(() => {
    const base = baseOverride.value ?? opts.base()
    if (base === null) return null
    const seeds = parseSeeds(seedsText.value)
    return {
      schema: SWEEP_SCHEMA_ID,
      name: name.value.trim() || 'sweep',
      base: structuredClone(toRaw(base)) as Record<string, never>,
      axes: axes.map(axisInput),
      seeds: typeof seeds === 'string' ? [] : seeds,
      metrics: [...metrics.value]
    }
  })

  const planned = computed<{ plan: SweepPlan } | { error: string }>(() => {
    const d = doc.value
    if (d === null) return { error: 'Fix the experiment first: the sweep starts from it' }
    const seeds = parseSeeds(seedsText.value)
    if (typeof seeds === 'string') return { error: `seeds: ${seeds}` }
    const v = validateSweep(d)
    if (!v.ok) return { error: `${v.issues[0].path}: ${v.issues[0].message}` }
    try {
      return { plan: expandSweep(v.sweep, typeof v.sweep.base === 'string' ? presetBase(v.sweep.base) : v.sweep.base) }
    } catch (e) {
      if (e instanceof SweepError) return { error: `${e.issues[0].path}: ${e.issues[0].message}` }
      throw e
    }
  })
  const plan = computed(() => ('plan' in planned.value ? planned.value.plan : null))
  const problem = computed(() => ('error' in planned.value ? planned.value.error : null))

  const todo = computed(() => plan.value?.runs.filter((r) => !results.value.has(r.hash)) ?? [])
  /** Wall seconds the runs still to do would take on the workers this browser allows. */
  const estimateSeconds = computed(() => todo.value.reduce((s, r) => s + runCost(r.config), 0) / speed / Math.min(concurrency(), Math.max(1, todo.value.length)))

  const result = computed<SweepResult | null>(() => (plan.value ? sweepResult(plan.value, results.value) : null))
  const doneCount = computed(() => runs.value.filter((r) => r.state === 'done' || r.state === 'cached').length)
  const failedCount = computed(() => runs.value.filter((r) => r.state === 'failed').length)

  function addAxis(path = ''): void {
    axes.push({ path, mode: 'values', values: '', from: 1, to: 10, steps: 5, scale: 'linear' })
  }

  function removeAxis(i: number): void {
    axes.splice(i, 1)
  }

  function coordsText(p: SweepPlan, point: number): string {
    return p.axes.map((a, i) => `${a.path}=${JSON.stringify(p.points[point].coords[i])}`).join(', ')
  }

  /** Run every run not done yet; each finished one is kept (resume = run again). */
  function run(): void {
    const p = plan.value
    if (!p || running.value) return
    const queue = p.runs.filter((r) => !results.value.has(r.hash))
    runs.value = p.runs.map((r) => ({ hash: r.hash, point: r.point, seed: r.seed, coords: coordsText(p, r.point), state: results.value.has(r.hash) ? 'cached' : 'queued', fraction: results.value.has(r.hash) ? 1 : 0 }))
    if (queue.length === 0) return
    running.value = true
    const view = (hash: string) => runs.value.find((r) => r.hash === hash)!
    let next = 0
    let active = 0
    const n = Math.min(concurrency(), queue.length)
    workerCount.value = n
    const start = opts.startWorker ?? startSweepWorker
    workers = Array.from({ length: n }, () => start())
    const began = new Map<number, number>()
    const finishOne = () => {
      active--
      if (next >= queue.length && active === 0) stop(false)
    }
    const feed = (w: SweepWorker) => {
      if (!running.value || next >= queue.length) return
      const id = next++
      active++
      began.set(id, performance.now())
      view(queue[id].hash).state = 'running'
      w.postMessage({ id, config: JSON.parse(JSON.stringify(queue[id].config)) as unknown })
    }
    for (const w of workers) {
      w.onmessage = (e) => {
        const m = e.data
        const r = queue[m.id]
        const v = view(r.hash)
        if (m.type === 'progress') v.fraction = m.fraction
        else if (m.type === 'done') {
          const wall = (performance.now() - (began.get(m.id) ?? performance.now())) / 1000
          if (wall > 0) speed = 0.5 * speed + 0.5 * (runCost(r.config) / wall)
          const copy = new Map(results.value)
          copy.set(r.hash, { hash: r.hash, lanes: m.lanes })
          results.value = copy
          v.state = 'done'
          v.fraction = 1
          finishOne()
          feed(w)
        } else {
          v.state = 'failed'
          v.message = m.message
          finishOne()
          feed(w)
        }
      }
      w.onerror = (e) => {
        e.preventDefault()
        opts.notices.error('A sweep worker failed', [(e as { message?: string }).message ?? 'unknown error'])
        stop(true)
      }
      feed(w)
    }
  }

  function stop(cancelled: boolean): void {
    for (const w of workers) w.terminate()
    workers = []
    running.value = false
    workerCount.value = 0
    if (cancelled) for (const r of runs.value) if (r.state === 'running') Object.assign(r, { state: 'queued', fraction: 0 })
  }

  /** Stop the workers; finished runs stay, Run again goes on from there. */
  function cancel(): void {
    if (running.value) stop(true)
  }

  function sweepText(): string | null {
    const d = doc.value
    return d ? JSON.stringify(d, null, 2) + '\n' : null
  }

  async function save(): Promise<void> {
    const text = sweepText()
    if (text === null || problem.value) {
      opts.notices.error('Cannot save the sweep', [problem.value ?? 'no experiment'])
      return
    }
    try {
      await opts.platform.exportFiles([{ name: `${slug(name.value) || 'sweep'}.sweep.json`, data: text }], 'sweep')
    } catch (e) {
      opts.notices.error('Saving the sweep failed', [e instanceof Error ? e.message : String(e)])
    }
  }

  /** Load a sweep document: its axes, seeds and metrics, and its base unless it is a file path. */
  function load(text: string, fileName: string): boolean {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (e) {
      opts.notices.error(`Cannot open ${fileName}`, [`invalid JSON: ${(e as Error).message}`])
      return false
    }
    const v = validateSweep(parsed)
    if (!v.ok) {
      opts.notices.error(`Cannot open ${fileName}`, v.issues.map((i) => `${i.path}: ${i.message}`))
      return false
    }
    const s = v.sweep
    let base: unknown
    if (typeof s.base === 'string') {
      base = presetBase(s.base)
      if (base === undefined) {
        opts.notices.error(`Cannot open ${fileName}`, [`base: "${s.base}" is a file; the app takes sweeps whose base is a preset or written inline`])
        return false
      }
    } else base = s.base
    // `set` is folded into the base here: the view edits axes, not set fields.
    const seeds = s.seeds === undefined ? undefined : Array.isArray(s.seeds) ? s.seeds : Array.from({ length: s.seeds }, (_, i) => ((base as { seed?: number }).seed ?? 42) + i)
    const folded = expandSweep({ ...s, axes: [], zip: [], seeds: [0] }, base).runs[0].config
    baseOverride.value = { ...folded, seed: (base as { seed?: number }).seed ?? 42 }
    name.value = s.name ?? 'sweep'
    axes.splice(0, axes.length, ...s.axes.map((a): AxisDraft => ('values' in a ? { path: a.path, mode: 'values', values: a.values.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', '), from: 1, to: 10, steps: 5, scale: 'linear' } : { path: a.path, mode: 'range', values: '', from: a.from, to: a.to, steps: a.steps, scale: a.scale })))
    if (seeds) seedsText.value = seeds.join(', ')
    metrics.value = [...s.metrics]
    return true
  }

  /** The sweep's charts as PNG, sweep.csv and sweep.json, with `render` drawing a chart spec. */
  async function exportResults(render: (c: ReturnType<typeof sweepCharts>[number][1]) => Uint8Array): Promise<void> {
    const p = plan.value
    const r = result.value
    if (!p || !r || r.points.length === 0) return
    const files: ExportFile[] = [
      { name: 'sweep.csv', data: sweepCsv(p, results.value) },
      { name: 'sweep.json', data: JSON.stringify(r, null, 2) + '\n' }
    ]
    try {
      for (const [n, chart] of sweepCharts(r, { responsive: false })) files.push({ name: `${n}.png`, data: render(chart) })
      await opts.platform.exportFiles(files, slug(name.value) || 'sweep')
    } catch (e) {
      opts.notices.error('Export failed', [e instanceof Error ? e.message : String(e)])
    }
  }

  function useCurrentExperiment(): void {
    baseOverride.value = null
  }

  return {
    axes,
    seedsText,
    metrics,
    name,
    baseOverride,
    plan,
    problem,
    result,
    runs,
    running,
    workerCount,
    todo,
    estimateSeconds,
    doneCount,
    failedCount,
    concurrency,
    addAxis,
    removeAxis,
    run,
    cancel,
    save,
    load,
    sweepText,
    exportResults,
    useCurrentExperiment
  }
}

export type SweepStore = ReturnType<typeof createSweepStore>
