/**
 * `npm run bench`: performance figures of the engine, measured in one run on this machine.
 * Not part of `npm test` (no timed unit tests). Results go to stdout and, with --json FILE,
 * to a JSON file; docs/performance.md quotes them with this command.
 *
 * 1. paper-fig6b, full 2400 s, both lanes: as `samepage run` does it (lanes side by side on
 *    worker threads), then each lane alone in this thread: wall seconds, simulated seconds per
 *    wall second, scanned pages per wall second per lane.
 * 2. Large scale: 16 VMs x 2 GiB (kernel build) for 300 s with KSM and Hint lanes: bytes of
 *    memory per simulated guest page (typed arrays held by a lane, and process RSS growth).
 * 3. Sweep: sweep-scan-rate with one seed (7 points x 2 lanes) on one worker per core, into a
 *    fresh folder: wall seconds, and the cores' utilisation: the workers' busy share of their
 *    time while lane tasks were waiting (the pool's job: >= 90 %), over the whole sweep (with
 *    the tail, when fewer tasks than cores remain), and the process's CPU time over wall x cores.
 * 4. Boot warm-up: 64 VMs x 512 MiB booted before t = 0 (one KSM lane): the wall time from
 *    Run to t = 0 (making the lane, then the warm-up), what the app shows as "Preparing…".
 * 5. Per-VM results (vmshares): paper-fig6b run to 60 s (262,144 guest pages per lane), then per
 *    lane the time of one `vmShares` with the current code and with the code before (bench/
 *    vmshares-before.ts, the same inputs, calls alternated, after warm-up calls), against one
 *    `Lane.sample()`; the outputs must be equal. Then what recording them at samples costs (as
 *    the app's session does, Lane.recordVmHistory: at most 64 records a run): paper-fig6b,
 *    the whole 2400 s, in one thread with and without the recording, alternated, as a ratio.
 * Peak RSS of the process is reported at the end. `--only a,b` runs some parts (fig6b_parallel,
 * fig6b, large, sweep, boot_warmup, vmshares).
 */
import { writeFileSync } from 'node:fs'
import { isMainThread } from 'node:worker_threads'
import { parseExperiment, type ExperimentInput } from '../src/core/experiment/config.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { findPreset } from '../src/core/experiment/presets.ts'
import { runLanes } from '../src/cli/lanes.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { poolUtilisation } from '../src/cli/pool.ts'
import { planSweep, prepareSweepDir, runSweep } from '../src/cli/sweep.ts'
import { findSweepPreset } from '../src/core/sweep/presets.ts'
import { validateSweep } from '../src/core/sweep/schema.ts'
import type { Lane } from '../src/core/experiment/lane.ts'
import { vmShares as vmSharesBefore } from './vmshares-before.ts'

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20
}

async function fig6bParallel(): Promise<Record<string, unknown>> {
  const preset = findPreset('paper-fig6b')
  if (!preset) throw new Error('paper-fig6b missing')
  const cfg = parseExperiment(preset.config)
  const t0 = performance.now()
  await runLanes(cfg, { checkInvariants: false }, () => {})
  const wall = (performance.now() - t0) / 1000
  return { preset: 'paper-fig6b', how: 'samepage run: lanes on worker threads', sim_seconds: cfg.duration_s, wall_seconds: round(wall), sim_seconds_per_wall_second: round(cfg.duration_s / wall) }
}

function fig6b(): Record<string, unknown> {
  const preset = findPreset('paper-fig6b')
  if (!preset) throw new Error('paper-fig6b missing')
  const cfg = parseExperiment(preset.config)
  const t0 = performance.now()
  const engine = new Engine(cfg)
  engine.warmup()
  const tWarm = performance.now()
  const laneWall: number[] = []
  for (const lane of engine.lanes) {
    const t = performance.now()
    lane.advanceTo(cfg.duration_s)
    laneWall.push((performance.now() - t) / 1000)
  }
  engine.t = cfg.duration_s
  const wall = (performance.now() - t0) / 1000
  const summary = engine.summary(wall)
  return {
    preset: 'paper-fig6b',
    sim_seconds: cfg.duration_s,
    wall_seconds: round(wall),
    warmup_wall_seconds: round((tWarm - t0) / 1000),
    sim_seconds_per_wall_second: round(cfg.duration_s / wall),
    lanes: summary.lanes.map((l, i) => ({
      name: l.name,
      wall_seconds: round(laneWall[i]),
      pages_scanned: l.pages_scanned,
      scanned_pages_per_wall_second: round(l.pages_scanned / laneWall[i]),
      sim_seconds_per_wall_second: round(cfg.duration_s / laneWall[i])
    }))
  }
}

function largeScale(): Record<string, unknown> {
  const input: ExperimentInput = {
    schema: 'samepage-lab/experiment@1',
    name: 'bench-large',
    duration_s: 300,
    sample_every_s: 10,
    warmup: { boot: true, share: false },
    vms: Array.from({ length: 16 }, (_, i) => ({ name: `vm${i}`, memory_mib: 2048, workload: { kind: 'kernel-build' as const } })),
    lanes: [
      { name: 'KSM', scanner: { kind: 'ksm' } },
      { name: 'Hint', scanner: { kind: 'hint' } }
    ]
  }
  const cfg = parseExperiment(input)
  globalThis.gc?.()
  const rss0 = rssMiB()
  const t0 = performance.now()
  const engine = new Engine(cfg)
  engine.run()
  const wall = (performance.now() - t0) / 1000
  globalThis.gc?.()
  const rss1 = rssMiB()
  const pagesPerLane = engine.lanes[0].totalPages
  const laneBytes = engine.lanes.map((l) => l.byteSize())
  return {
    vms: 16,
    memory_mib_per_vm: 2048,
    sim_seconds: 300,
    wall_seconds: round(wall),
    guest_pages_per_lane: pagesPerLane,
    typed_array_bytes_per_page: Object.fromEntries(engine.lanes.map((l, i) => [l.cfg.name, round(laneBytes[i] / pagesPerLane)])),
    rss_growth_bytes_per_page_per_lane: round(((rss1 - rss0) * 2 ** 20) / (pagesPerLane * engine.lanes.length)),
    present_pages: engine.lanes.map((l) => l.mem.presentPages)
  }
}

async function sweepScanRate(): Promise<Record<string, unknown>> {
  const preset = findSweepPreset('sweep-scan-rate')
  if (!preset) throw new Error('sweep-scan-rate missing')
  const v = validateSweep({ ...preset.sweep, seeds: 1 })
  if (!v.ok) throw new Error(JSON.stringify(v.issues))
  const { plan } = planSweep(v.sweep, process.cwd())
  const dir = mkdtempSync(join(tmpdir(), 'samepage-bench-sweep-'))
  try {
    const out = prepareSweepDir(join(dir, 'out'), plan)
    const threads = availableParallelism()
    const io = { stdout: () => {}, stderr: (x: string) => void process.stderr.write(x), stderrIsTTY: false }
    const r = await runSweep(plan.runs, out, { threads, io, label: 'bench sweep' })
    const u = r.timeline ? poolUtilisation(r.timeline) : { whole: 0, whileQueued: 0 }
    return {
      preset: 'sweep-scan-rate',
      seeds: 1,
      runs: plan.runs.length,
      lane_tasks: r.timeline?.tasks.length ?? 0,
      sim_seconds_per_run: plan.runs[0].config.duration_s,
      workers: threads,
      wall_seconds: round(r.wallSeconds),
      failures: r.failures.length,
      workers_busy_while_tasks_wait: round(u.whileQueued),
      workers_busy_whole_sweep: round(u.whole),
      process_cpu_over_wall_x_cores: round(r.cpuSeconds / (r.wallSeconds * threads))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The config of the boot warm-up figure. */
function bootWarmupInput(): ExperimentInput {
  return {
    schema: 'samepage-lab/experiment@1',
    name: 'bench-boot',
    duration_s: 60,
    sample_every_s: 10,
    warmup: { boot: true, share: false },
    vms: Array.from({ length: 64 }, (_, i) => ({ name: `vm${i}`, memory_mib: 512, workload: { kind: 'idle' as const } })),
    lanes: [{ name: 'KSM', scanner: { kind: 'ksm' } }]
  }
}

function bootWarmup(): Record<string, unknown> {
  const cfg = parseExperiment(bootWarmupInput())
  globalThis.gc?.()
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const engine = new Engine(cfg)
  const t1 = performance.now()
  engine.warmup()
  const t2 = performance.now()
  const cpu = process.cpuUsage(c0)
  return {
    vms: 64,
    memory_mib_per_vm: 512,
    lanes: 1,
    construct_wall_seconds: round((t1 - t0) / 1000),
    warmup_wall_seconds: round((t2 - t1) / 1000),
    total_wall_seconds: round((t2 - t0) / 1000),
    // CPU time of this thread's process: steadier than wall time on a shared machine.
    total_cpu_seconds: round((cpu.user + cpu.system) / 1e6)
  }
}

/** Mean wall ms of `f` over `n` calls, after `warm` calls that are not timed. */
function meanMs(f: () => void, n: number, warm = 3): number {
  for (let i = 0; i < warm; i++) f()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) f()
  return (performance.now() - t0) / n
}

function vmSharesBench(): Record<string, unknown> {
  const preset = findPreset('paper-fig6b')
  if (!preset) throw new Error('paper-fig6b missing')
  const base = parseExperiment(preset.config)
  const engine = new Engine({ ...base, duration_s: 60 })
  engine.run()
  const lanes = engine.lanes.map((lane: Lane) => {
    const l = lane as unknown as { mem: Lane['mem']; stable: Lane['stable']; vmBase: Int32Array }
    const input = { mem: l.mem, nodeIds: l.stable.idCount, vmBase: l.vmBase, names: base.vms.map((v) => v.name), cow: base.vms.map(() => 0) }
    // The first call of each (its code not optimized yet: what a pause pays in a session that
    // has not called it before), after a sample has brought the pages into the caches.
    lane.sample()
    let t0 = performance.now()
    vmSharesBefore(input, lane.t)
    const firstBefore = performance.now() - t0
    t0 = performance.now()
    lane.vmShares()
    const firstAfter = performance.now() - t0
    const same = JSON.stringify(vmSharesBefore(input, lane.t)) === JSON.stringify({ ...lane.vmShares(), vms: lane.vmShares().vms.map((v) => ({ ...v, cow_breaks: 0 })) })
    if (!same) throw new Error(`vmshares: lane ${lane.cfg.name}: the current code and the code before disagree`)
    // Alternate the two, five rounds of 10 calls each.
    let before = 0
    let after = 0
    for (let r = 0; r < 5; r++) {
      before += meanMs(() => vmSharesBefore(input, lane.t), 10) / 5
      after += meanMs(() => lane.vmShares(), 10) / 5
    }
    const sample = meanMs(() => lane.sample(), 20)
    return {
      lane: lane.cfg.name,
      guest_pages: lane.totalPages,
      first_call_before_ms: round(firstBefore),
      first_call_after_ms: round(firstAfter),
      before_ms: round(before),
      after_ms: round(after),
      after_over_before: round(after / before),
      after_over_sample: round(after / sample),
      sample_ms: round(sample)
    }
  })
  // Recording at samples, as the app's session does, against not recording.
  const cfg = base
  let records = 0
  let every = 0
  const runOnce = (history: boolean): number => {
    const t0 = performance.now()
    const e = new Engine(cfg, { vmHistory: history })
    e.run()
    const wall = (performance.now() - t0) / 1000
    if (history) {
      records = e.lanes[0].vmHistory?.records ?? 0
      every = e.lanes[0].vmHistory?.every ?? 0
    }
    return wall
  }
  const off: number[] = []
  const on: number[] = []
  for (let r = 0; r < 3; r++) {
    off.push(runOnce(false))
    on.push(runOnce(true))
  }
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
  return {
    preset: 'paper-fig6b',
    sim_seconds_for_call_times: 60,
    lanes,
    history: {
      sim_seconds: cfg.duration_s,
      samples_per_lane: Math.floor(cfg.duration_s / base.sample_every_s) + 1,
      records_per_lane: records,
      every_kth_sample: every,
      wall_seconds_off: off.map(round),
      wall_seconds_on: on.map(round),
      on_over_off: round(sum(on) / sum(off)),
      // What the records cost by the call times above: records x a call, both lanes, of a run's time.
      records_x_call_over_run: round((records * lanes.reduce((a, l) => a + l.after_ms, 0)) / 1000 / (sum(off) / off.length))
    }
  }
}

/**
 * Two small idle VMs (32 and 64 MiB) with the default warm-up: their boot fills memory with
 * anonymous pages, where an allocation used to sweep every page for page cache (guest.ts,
 * reclaim): 600 simulated seconds took 13 s of wall time, most of it in those sweeps.
 */
function smallVms(): Record<string, unknown> {
  const cfg = parseExperiment({
    schema: 'samepage-lab/experiment@1',
    name: 'bench-small-vms',
    duration_s: 600,
    vms: [
      { name: 'a', memory_mib: 32, workload: { kind: 'idle' } },
      { name: 'b', memory_mib: 64, workload: { kind: 'idle' } }
    ],
    lanes: [{ name: 'KSM', scanner: { kind: 'ksm' } }]
  })
  const t0 = performance.now()
  const engine = new Engine(cfg)
  engine.warmup()
  const t1 = performance.now()
  engine.run()
  const t2 = performance.now()
  return { vms: '32 + 64 MiB, idle', sim_seconds: cfg.duration_s, warmup_wall_seconds: round((t1 - t0) / 1000), wall_seconds: round((t2 - t0) / 1000), sim_seconds_per_wall_second: round(cfg.duration_s / ((t2 - t0) / 1000)) }
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}

/** `--only a,b`: run only these parts (fig6b_parallel, fig6b, large, sweep, boot_warmup, small_vms, vmshares). */
function wanted(part: string): boolean {
  const i = process.argv.indexOf('--only')
  return i < 0 || (process.argv[i + 1] ?? '').split(',').includes(part)
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { node: process.version, date: new Date().toISOString() }
  if (wanted('fig6b_parallel')) {
    process.stderr.write('bench: paper-fig6b, 2400 s, KSM and Hint lanes on worker threads ...\n')
    results.fig6b_parallel = await fig6bParallel()
  }
  if (wanted('fig6b')) {
    process.stderr.write('bench: paper-fig6b, each lane alone in one thread ...\n')
    results.fig6b = fig6b()
  }
  if (wanted('large')) {
    process.stderr.write('bench: 16 VMs x 2 GiB, 300 s, KSM and Hint ...\n')
    results.large = largeScale()
  }
  if (wanted('boot_warmup')) {
    process.stderr.write('bench: boot warm-up, 64 VMs x 512 MiB ...\n')
    results.boot_warmup = bootWarmup()
  }
  if (wanted('vmshares')) {
    process.stderr.write('bench: per-VM results, paper-fig6b ...\n')
    results.vmshares = vmSharesBench()
  }
  if (wanted('small_vms')) {
    process.stderr.write('bench: two small idle VMs (32 and 64 MiB), 600 s ...\n')
    results.small_vms = smallVms()
  }
  if (wanted('sweep')) {
    process.stderr.write('bench: sweep-scan-rate, one seed, one worker per core ...\n')
    results.sweep = await sweepScanRate()
  }
  results.peak_rss_mib = round(process.resourceUsage().maxRSS / 1024)
  process.stdout.write(JSON.stringify(results, null, 2) + '\n')
  const i = process.argv.indexOf('--json')
  if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1], JSON.stringify(results, null, 2) + '\n')
}

// The lanes' worker threads load this same bundle (src/cli/pool.ts); only the main thread benches.
if (isMainThread) await main()
