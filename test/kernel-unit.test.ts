// The kernel peer's pure parts, with no kernel: the page expansion, the /proc parsers, the knob
// recording and restore against a fake sysfs folder, the state file, the sample row and summary,
// the comparison figures and the validation verdicts, the CPU profile file.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ZERO_FP_HI, ZERO_FP_LO } from '../src/core/machine/content.ts'
import { METRIC_COLUMNS, METRIC_INDEX, Series } from '../src/core/experiment/metrics.ts'
import { fillPage, PAGE_WORDS } from '../src/kernel/pagefill.ts'
import { parseConfigHz, parseMeminfo, parseSchedstatNs, parseStatTicks, parseVmstat } from '../src/kernel/proc.ts'
import { KSM_COUNTERS, KsmSysfs, selectedChoice } from '../src/kernel/sysfs.ts'
import { createState, readState, restoreFromState } from '../src/kernel/state.ts'
import { kernelLaneName, kernelLaneSummary, kernelRow, KERNEL_SCANNER, LagStats } from '../src/kernel/summary.ts'
import { compareRuns, timeToLevel, valueAt } from '../src/kernel/compare.ts'
import { checkScenario } from '../src/kernel/validate.ts'
import { laneKnobs, pickKsmLane, KernelUsageError } from '../src/kernel/run.ts'
import { validationScenarios, staticSnapshot } from '../src/kernel/scenarios.ts'
import { parseExperiment } from '../src/core/experiment/config.ts'
import { parseCpuProfileFile, CPU_PROFILE_SCHEMA } from '../src/core/machine/profile.ts'
import { XEON_X5560 } from '../src/core/machine/cost.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { laneStyles } from '../src/core/analysis/charts.ts'

describe('page expansion of a fingerprint', () => {
  it('equal fingerprints give equal bytes and different ones differ from the first word', () => {
    const w = new Uint32Array(3 * PAGE_WORDS)
    fillPage(w, 0, 0x12345678, 0x9abcdef0)
    fillPage(w, PAGE_WORDS, 0x12345678, 0x9abcdef0)
    fillPage(w, 2 * PAGE_WORDS, 0x12345678, 0x9abcdef1)
    expect(w.subarray(0, PAGE_WORDS)).toEqual(w.subarray(PAGE_WORDS, 2 * PAGE_WORDS))
    expect(w[2 * PAGE_WORDS + 1]).not.toBe(w[1])
    let same = 0
    for (let i = 2; i < PAGE_WORDS; i++) if (w[i] === w[2 * PAGE_WORDS + i]) same++
    expect(same).toBeLessThan(4)
  })

  it('the zero fingerprint gives 4096 zero bytes, overwriting what was there', () => {
    const w = new Uint32Array(PAGE_WORDS).fill(7)
    fillPage(w, 0, ZERO_FP_HI, ZERO_FP_LO)
    expect(w.every((x) => x === 0)).toBe(true)
  })

  it('a non-zero fingerprint never expands to a zero page, even (0, 0)', () => {
    const w = new Uint32Array(PAGE_WORDS)
    fillPage(w, 0, 0, 0)
    expect(w.some((x) => x !== 0)).toBe(true)
  })

  it('the expansion is the same bytes on every call and in every process (fixed words)', () => {
    const a = new Uint32Array(PAGE_WORDS)
    fillPage(a, 0, 1, 2)
    expect([a[0], a[1]]).toEqual([1, 2])
    // Pinned: a change of the expansion changes what earlier kernel results ran on.
    expect([a[2], a[3], a[PAGE_WORDS - 1]]).toEqual([1275871589, 3327596517, 2827857697])
  })
})

describe('/proc parsers', () => {
  it('utime + stime come from fields 14 and 15, after a command name with spaces and parentheses', () => {
    const stat = '37 (ksm d) x) S 2 0 0 0 -1 2129984 0 0 0 0 1234 567 0 0 25 5 1 0 30 0 0 18446744073709551615'
    expect(parseStatTicks(stat)).toBe(1234 + 567)
  })
  it('schedstat, CONFIG_HZ, MemAvailable and cow_ksm are read by name', () => {
    expect(parseSchedstatNs('2947 1339941 2\n')).toBe(2947)
    expect(parseConfigHz('CONFIG_HZ_250=y\nCONFIG_HZ=250\n')).toBe(250)
    expect(parseConfigHz('# CONFIG_HZ is not set\n')).toBeNull()
    expect(parseMeminfo('MemTotal: 10 kB\nMemAvailable:   24180628 kB\n', 'MemAvailable')).toBe(24180628 * 1024)
    expect(parseVmstat('ksm_swpin_copy 0\ncow_ksm 17\n', 'cow_ksm')).toBe(17)
  })
})

/** A fake /sys/kernel/mm/ksm with the defaults of KSM.md. */
function fakeSysfs(over: Record<string, string> = {}): KsmSysfs {
  const dir = mkdtempSync(join(tmpdir(), 'samepage-fake-ksm-'))
  const files: Record<string, string> = {
    run: '0',
    pages_to_scan: '100',
    sleep_millisecs: '20',
    max_page_sharing: '256',
    merge_across_nodes: '1',
    use_zero_pages: '0',
    smart_scan: '1',
    stable_node_chains_prune_millisecs: '2000',
    advisor_mode: '[none] scan-time',
    advisor_max_cpu: '70',
    advisor_min_pages_to_scan: '500',
    advisor_max_pages_to_scan: '30000',
    advisor_target_scan_time: '200',
    ...Object.fromEntries(KSM_COUNTERS.map((c) => [c, '0'])),
    ...over
  }
  for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, k), v + '\n')
  return new KsmSysfs(dir)
}

const read = (s: KsmSysfs, f: string) => readFileSync(join(s.root, f), 'utf8').trim()

describe('knobs: record, apply, restore (fake sysfs)', () => {
  it('records every knob and the advisor mode as selected', () => {
    const s = fakeSysfs()
    const st = s.record()
    expect(st.run).toBe('0')
    expect(st.knobs.advisor_mode).toBe('none')
    expect(st.knobs.pages_to_scan).toBe('100')
    expect(selectedChoice('none [scan-time]')).toBe('scan-time')
  })

  it('applying a lane and restoring puts every file back as it was', () => {
    const s = fakeSysfs()
    const before = Object.fromEntries(['run', 'pages_to_scan', 'sleep_millisecs', 'max_page_sharing', 'use_zero_pages', 'smart_scan'].map((f) => [f, read(s, f)]))
    const st = s.record()
    const cfg = parseExperiment({ schema: 'samepage-lab/experiment@1', name: 'x', duration_s: 1, sample_every_s: 1, vms: [{ name: 'a', workload: { kind: 'idle' } }], lanes: [{ name: 'K', scanner: { kind: 'ksm', pages_to_scan: 1000, max_page_sharing: 16, use_zero_pages: true } }] })
    s.unmerge()
    s.applyKnobs(laneKnobs(cfg.lanes[0]))
    s.write('run', '1')
    expect(read(s, 'pages_to_scan')).toBe('1000')
    expect(read(s, 'max_page_sharing')).toBe('16')
    expect(read(s, 'smart_scan')).toBe('0')
    s.restore(st)
    for (const [f, v] of Object.entries(before)) expect(read(s, f)).toBe(v)
  })

  it('with the advisor on, pages_to_scan is left to the kernel and the mode is written last', () => {
    const s = fakeSysfs()
    const writes: string[] = []
    const orig = s.write.bind(s)
    s.write = (n: string, v: string) => {
      writes.push(`${n}=${v}`)
      orig(n, v)
    }
    s.applyKnobs({ pages_to_scan: '999', advisor_mode: 'scan-time', advisor_target_scan_time: '2' })
    expect(writes).toEqual(['advisor_target_scan_time=2', 'advisor_mode=scan-time'])
    // Restoring from the advisor: mode none first, so pages_to_scan may be written.
    writes.length = 0
    writeFileSync(join(s.root, 'pages_to_scan'), '500')
    s.applyKnobs({ pages_to_scan: '100', advisor_mode: 'none', advisor_target_scan_time: '200' })
    expect(writes[0]).toBe('advisor_mode=none')
    expect(writes).toContain('pages_to_scan=100')
  })

  it('unmerge waits for pages_shared to reach 0 and gives up with one line naming the file', () => {
    const s = fakeSysfs({ pages_shared: '5' })
    expect(() => s.unmerge(100)).toThrow(/pages_shared is still 5/)
    expect(read(s, 'run')).toBe('2')
  })
})

describe('state file', () => {
  it('after a killed run, restore puts the recorded knobs back and removes the file', () => {
    const s = fakeSysfs()
    const path = join(mkdtempSync(join(tmpdir(), 'samepage-state-')), 'sub', 'state.json')
    const st = s.record()
    createState(path, s, st)
    // What the killed run had done.
    writeFileSync(join(s.root, 'run'), '1')
    writeFileSync(join(s.root, 'pages_to_scan'), '5000')
    // A dead pid: the state file names a process that no longer runs.
    const doc = JSON.parse(readFileSync(path, 'utf8'))
    doc.pid = 2 ** 22 + 12345
    writeFileSync(path, JSON.stringify(doc))
    expect(restoreFromState(path)?.pid).toBe(doc.pid)
    expect(read(s, 'run')).toBe('0')
    expect(read(s, 'pages_to_scan')).toBe('100')
    expect(existsSync(path)).toBe(false)
    expect(restoreFromState(path)).toBeNull()
  })

  it('a second run cannot take the state file (the lock), and a live owner is not restored over', () => {
    const s = fakeSysfs()
    const dir = mkdtempSync(join(tmpdir(), 'samepage-state-'))
    const path = join(dir, 'state.json')
    createState(path, s, s.record())
    expect(() => createState(path, s, s.record())).toThrow(/another kernel run holds/)
    const doc = readState(path)
    expect(doc?.pid).toBe(process.pid)
    // Owned by a live process other than this one (pid 1 always runs).
    writeFileSync(path, JSON.stringify({ ...doc, pid: 1 }))
    expect(() => restoreFromState(path)).toThrow(/still using KSM/)
  })

  it('a corrupt state file is one clear line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'samepage-state-'))
    mkdirSync(dir, { recursive: true })
    const path = join(dir, 'state.json')
    writeFileSync(path, '{nope')
    expect(() => readState(path)).toThrow(/not JSON/)
  })
})

describe('kernel samples and summary', () => {
  const counters = (o: Partial<Record<(typeof KSM_COUNTERS)[number], number>>) => ({ ...Object.fromEntries(KSM_COUNTERS.map((c) => [c, 0])), ...o }) as Record<(typeof KSM_COUNTERS)[number], number>

  it('a row takes the counters as sysfs shows them, events since the start, CPU over wall time', () => {
    const row = new Float64Array(METRIC_COLUMNS.length)
    row[METRIC_INDEX.alloc_other] = 77
    kernelRow(row, { counters: counters({ pages_shared: 10, pages_sharing: 30, ksm_zero_pages: 5, full_scans: 12, pages_scanned: 5000 }), cpuNsDelta: 5e7, wallDelta: 1, cowSinceStart: 3 }, counters({ full_scans: 10, pages_scanned: 1000 }), 100, true)
    expect(row[METRIC_INDEX.sharing_ratio]).toBeCloseTo(0.45)
    expect(row[METRIC_INDEX.saved_mib]).toBeCloseTo(35 / 256)
    expect(row[METRIC_INDEX.full_scans]).toBe(2)
    expect(row[METRIC_INDEX.pages_scanned]).toBe(4000)
    expect(row[METRIC_INDEX.cpu_percent]).toBeCloseTo(5)
    expect(row[METRIC_INDEX.cow_breaks]).toBe(3)
    expect(row[METRIC_INDEX.alloc_other]).toBe(77) // the model's guests
    expect(Number.isNaN(row[METRIC_INDEX.shared_other])).toBe(true) // the kernel does not say
  })

  it('the lane summary has samepage run\'s schema, the scanner named kernel-ksm', () => {
    const series = new Series()
    const row = new Float64Array(METRIC_COLUMNS.length)
    for (const [t, sharing] of [
      [0, 0],
      [1, 100],
      [2, 300]
    ]) {
      row[METRIC_INDEX.t_s] = t
      row[METRIC_INDEX.pages_sharing] = sharing
      row[METRIC_INDEX.pages_scanned] = t * 1000
      series.push(row)
    }
    const l = kernelLaneSummary('Linux x KSM', series, { runWallS: 2, cpuNs: 2e7, workloadDone: [null] })
    expect(l.scanner).toBe(KERNEL_SCANNER)
    expect(l.pages_sharing_gained).toBe(300)
    expect(l.cpu_percent.mean).toBeCloseTo(1)
    expect(l.cpu_ns_per_shared_page).toBeCloseTo(2e7 / 300, 0)
    // Every key of a simulated lane's summary is there.
    const engine = new Engine(parseExperiment({ schema: 'samepage-lab/experiment@1', name: 'x', duration_s: 1, sample_every_s: 1, vms: [{ name: 'a', memory_mib: 16, workload: { kind: 'idle' } }], lanes: [{ name: 'K', scanner: { kind: 'ksm' } }] }))
    engine.run()
    expect(Object.keys(l).sort()).toEqual(Object.keys(engine.summary(0).lanes[0]).sort())
    expect(kernelLaneName('6.18.44').length).toBeLessThanOrEqual(64)
    expect(kernelLaneName('x'.repeat(100)).length).toBeLessThanOrEqual(64)
  })

  it('writer lag: max and mean over ticks, negative lag (early) counted as 0', () => {
    const l = new LagStats()
    for (const x of [0.01, 0.03, -0.5]) l.add(x)
    expect(l.max).toBe(0.03)
    expect(l.mean).toBeCloseTo(0.04 / 3)
  })
})

describe('comparison figures and verdicts', () => {
  const series = (pts: [number, number, number][]) => {
    const s = new Series()
    const row = new Float64Array(METRIC_COLUMNS.length)
    for (const [t, sharing, scanned] of pts) {
      row[METRIC_INDEX.t_s] = t
      row[METRIC_INDEX.pages_sharing] = sharing
      row[METRIC_INDEX.pages_scanned] = scanned
      s.push(row)
    }
    return s
  }
  const summaryOf = (s: Series, _scanned: number) => kernelLaneSummary('x', s, { runWallS: 4, cpuNs: 4e7, workloadDone: [] })

  it('time to a level is interpolated between samples', () => {
    expect(timeToLevel([0, 1, 2], [0, 100, 200], 150)).toBe(1.5)
    expect(timeToLevel([0, 1], [0, 10], 11)).toBeNull()
    expect(valueAt([0, 2], [0, 100], 1)).toBe(50)
  })

  it('the gap over time is a percentage of the kernel\'s final saved pages', () => {
    const sim = series([
      [0, 0, 0],
      [1, 50, 100],
      [2, 100, 200]
    ])
    const ker = series([
      [0, 0, 0],
      [1, 0, 100],
      [2, 100, 200]
    ])
    const c = compareRuns({ series: sim, summary: summaryOf(sim, 200), cpuNs: 4e7 }, { series: ker, summary: summaryOf(ker, 200), cpuNs: 4e7 }, 2)
    expect(c.saved_gap_pct.max).toBe(50)
    expect(c.saved_gap_pct.mean).toBeCloseTo(50 / 3)
    expect(c.sim.time_to[0]).toBe(1)
    expect(c.kernel.time_to[0]).toBe(1.5)
    expect(c.kernel.scanned_to[0]).toBe(150)
  })

  it('a static scenario fails on one counter off by one, and passes when equal', () => {
    const sc = validationScenarios()[0]
    const s = series([
      [0, 0, 0],
      [1, 100, 100],
      [2, 100, 200]
    ])
    const sum = summaryOf(s, 200)
    const info = { writer_lag_s: { max: 0.01, mean: 0 }, fell_behind: false } as Parameters<typeof checkScenario>[2]
    const eq = compareRuns({ series: s, summary: sum, cpuNs: 1 }, { series: s, summary: { ...sum }, cpuNs: 1 }, 2)
    expect(checkScenario(sc, eq, info, false).pass).toBe(true)
    const off = compareRuns({ series: s, summary: sum, cpuNs: 1 }, { series: s, summary: { ...sum, pages_unshared: sum.pages_unshared + 1 }, cpuNs: 1 }, 2)
    const r = checkScenario(sc, off, info, false)
    expect(r.pass).toBe(false)
    expect(r.checks.find((c) => c.name === 'final state')?.pass).toBe(false)
    // A writer that fell behind fails the scenario whatever the counters.
    expect(checkScenario(sc, eq, { ...info, fell_behind: true }, false).pass).toBe(false)
  })

  it('timing is judged on a quiet host and only shown when ksmd waited for a CPU past the band', () => {
    const sc = validationScenarios()[0]
    const mk = (pts: [number, number, number][]) => series(pts)
    const sim = mk([
      [0, 0, 0],
      [1, 100, 100],
      [2, 100, 200],
      [3, 100, 300]
    ])
    const ker = mk([
      [0, 0, 0],
      [1, 0, 100],
      [2, 0, 200],
      [3, 100, 300]
    ])
    const c = compareRuns({ series: sim, summary: summaryOf(sim, 300), cpuNs: 1 }, { series: ker, summary: summaryOf(ker, 300), cpuNs: 1 }, 3)
    const base = { writer_lag_s: { max: 0.01, mean: 0 }, fell_behind: false }
    const quiet = checkScenario(sc, c, { ...base, ksmd_wait_percent: 5 } as Parameters<typeof checkScenario>[2], false)
    expect(quiet.checks.find((x) => x.name === 't50 (s)')?.pass).toBe(false)
    const busy = checkScenario(sc, c, { ...base, ksmd_wait_percent: 40 } as Parameters<typeof checkScenario>[2], false)
    expect(busy.host_busy).toBe(true)
    expect(busy.checks.find((x) => x.name === 't50 (s)')?.pass).toBeNull()
    // The gap over time is judged either way (it is the sharing, not the pace).
    expect(busy.checks.find((x) => x.name === 'gap mean/max (%)')?.pass).toBe(false)
  })

  it('the smart-scan scenario holds every final counter exact but pages_unshared', () => {
    const sc = validationScenarios().find((x) => x.name === 'static-smart-scan')
    if (!sc) throw new Error('scenario gone')
    const s = series([
      [0, 0, 0],
      [1, 100, 100]
    ])
    const sum = summaryOf(s, 100)
    const info = { writer_lag_s: { max: 0.01, mean: 0 }, fell_behind: false, ksmd_wait_percent: 1 } as Parameters<typeof checkScenario>[2]
    const unshared = compareRuns({ series: s, summary: sum, cpuNs: 1 }, { series: s, summary: { ...sum, pages_unshared: 4096 }, cpuNs: 1 }, 1)
    expect(checkScenario(sc, unshared, info, false).checks[0].pass).toBe(true)
    const dups = compareRuns({ series: s, summary: sum, cpuNs: 1 }, { series: s, summary: { ...sum, stable_node_dups: 9 }, cpuNs: 1 }, 1)
    expect(checkScenario(sc, dups, info, false).checks[0].pass).toBe(false)
  })
})

describe('lane choice and scenarios', () => {
  const base = { schema: 'samepage-lab/experiment@1', name: 'x', duration_s: 1, sample_every_s: 1, vms: [{ name: 'a', workload: { kind: 'idle' } }] }
  it('the first ksm lane is taken; a hint lane, isolation across tenants and warmup.share are refused with the field', () => {
    const c = parseExperiment({ ...base, lanes: [{ name: 'H', scanner: { kind: 'hint' } }, { name: 'K', scanner: { kind: 'ksm' } }] })
    expect(pickKsmLane(c).lane.name).toBe('K')
    expect(() => pickKsmLane(c, 'H')).toThrow(/lanes\[0\]\.scanner\.kind/)
    expect(() => pickKsmLane(c, 'Z')).toThrow(KernelUsageError)
    const share = parseExperiment({ ...base, warmup: { share: true }, lanes: [{ name: 'K', scanner: { kind: 'ksm' } }] })
    expect(() => pickKsmLane(share)).toThrow(/^warmup\.share/)
  })

  it('the static snapshot holds the layout it documents', () => {
    const s = staticSnapshot(0)
    const fps = s.extents[0].fps
    let zero = 0
    for (let i = 0; i < fps.length / 2; i++) if (fps[2 * i] === ZERO_FP_HI && fps[2 * i + 1] === ZERO_FP_LO) zero++
    expect(fps.length / 2).toBe(4096)
    expect(zero).toBe(512)
  })
})

describe('CPU profile files and how lanes draw', () => {
  it('a profile file is read back; a bad cost is one line naming the field', () => {
    const doc = { schema: CPU_PROFILE_SCHEMA, profile: { ...XEON_X5560, id: 'host', label: 'h' } }
    expect(parseCpuProfileFile(JSON.stringify(doc), 'p.json').checksum_ns).toBe(XEON_X5560.checksum_ns)
    expect(() => parseCpuProfileFile(JSON.stringify({ ...doc, profile: { ...doc.profile, merge_ns: -1 } }), 'p.json')).toThrow(/^p\.json: profile\.merge_ns:/)
    expect(() => parseCpuProfileFile('{}', 'p.json')).toThrow(/not a CPU profile/)
  })

  it('an experiment naming a profile file uses its costs', () => {
    const profile = { ...XEON_X5560, id: 'host', label: 'h', checksum_ns: XEON_X5560.checksum_ns * 10 }
    // A snapshot VM: loaded in one quantum, so the run is all scanning.
    const cfg = (file?: string) =>
      parseExperiment({ schema: 'samepage-lab/experiment@1', name: 'x', duration_s: 3, sample_every_s: 1, host: file ? { cpu_profile_file: file } : {}, vms: [{ name: 'a', memory_mib: 16, snapshot_file: 's', workload: { kind: 'idle', activity_pages_per_s: 0 } }], lanes: [{ name: 'K', scanner: { kind: 'ksm' } }] })
    const snap = { kind: 'snapshot' as const, snapshot: staticSnapshot(0) }
    const plain = new Engine(cfg(), { assets: new Map([['s', snap]]) })
    plain.run()
    const withFile = new Engine(cfg('p.json'), { assets: new Map<string, never>([['p.json', { kind: 'cpu-profile', profile } as never], ['s', snap as never]]) })
    withFile.run()
    expect(withFile.summary(0).lanes[0].cpu_percent.mean).toBeGreaterThan(plain.summary(0).lanes[0].cpu_percent.mean)
    expect(() => new Engine(cfg('p.json'), { assets: new Map([['s', snap]]) })).toThrow(/host\.cpu_profile_file/)
  })

  it('a kernel lane draws dashed in its scanner\'s colour, next to a solid simulated lane', () => {
    const col = () => new Float64Array(0)
    const [sim, ker] = laneStyles([
      { name: 'KSM', scanner: 'ksm', column: col },
      { name: 'Linux KSM', scanner: 'kernel-ksm', column: col }
    ])
    expect(sim.dash).toEqual([])
    expect(ker.dash.length).toBeGreaterThan(0)
    expect(ker.color).toBe(sim.color)
  })
})

describe('kernel CLI: bad input and hosts that cannot run it (fake sysfs, no kernel touched)', () => {
  const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')
  const cli = async (args: string[], env: Record<string, string>) => {
    const { execFile } = await import('node:child_process')
    return new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
      execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => res({ code: err ? (err as { code: number }).code : 0, stdout, stderr }))
    })
  }
  const oneLine = (r: { code: number; stderr: string }, re: RegExp) => {
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(re)
  }
  const dir = mkdtempSync(join(tmpdir(), 'samepage-kcli-'))
  const hintOnly = join(dir, 'hint.samepage.json')
  writeFileSync(hintOnly, JSON.stringify({ schema: 'samepage-lab/experiment@1', name: 'h', duration_s: 5, sample_every_s: 1, vms: [{ name: 'a', memory_mib: 16, workload: { kind: 'idle' } }], lanes: [{ name: 'H', scanner: { kind: 'hint' } }] }))
  const ksmCfg = join(dir, 'ksm.samepage.json')
  writeFileSync(ksmCfg, JSON.stringify({ schema: 'samepage-lab/experiment@1', name: 'k', duration_s: 5, sample_every_s: 1, vms: [{ name: 'a', memory_mib: 16, workload: { kind: 'idle' } }], lanes: [{ name: 'K', scanner: { kind: 'ksm' } }] }))
  const state = join(dir, 'state.json')

  it('an unknown subcommand, a config with no ksm lane, and a missing KSM folder are one line, exit 2', async () => {
    oneLine(await cli(['kernel', 'bogus'], {}), /unknown subcommand "bogus"/)
    oneLine(await cli(['kernel', 'run', hintOnly], {}), /^samepage: lanes: no lane has scanner kind "ksm"/)
    const r = await cli(['kernel', 'run', ksmCfg], { SAMEPAGE_KSM_SYSFS: join(dir, 'no-ksm'), SAMEPAGE_KSM_STATE: state })
    oneLine(r, process.getuid?.() === 0 ? /no-ksm not found: this kernel has no KSM/ : /needs root/)
  })

  it.skipIf(process.getuid?.() !== 0)('KSM already running or holding pages is refused unless --force, before anything changes', async () => {
    const s = fakeSysfs({ run: '1' })
    oneLine(await cli(['kernel', 'run', ksmCfg], { SAMEPAGE_KSM_SYSFS: s.root, SAMEPAGE_KSM_STATE: state }), /KSM is already running/)
    writeFileSync(join(s.root, 'run'), '0')
    writeFileSync(join(s.root, 'pages_shared'), '12')
    oneLine(await cli(['kernel', 'run', ksmCfg], { SAMEPAGE_KSM_SYSFS: s.root, SAMEPAGE_KSM_STATE: state }), /pages_shared is 12/)
    expect(read(s, 'pages_to_scan')).toBe('100')
    expect(existsSync(state)).toBe(false)
  })

  it('kernel restore: nothing to do without a state file; with one from a dead run, the knobs come back', async () => {
    const none = await cli(['kernel', 'restore'], { SAMEPAGE_KSM_STATE: join(dir, 'none.json') })
    expect(none.code).toBe(0)
    expect(none.stdout).toMatch(/nothing to restore/)
    const s = fakeSysfs()
    createState(state, s, s.record())
    const doc = JSON.parse(readFileSync(state, 'utf8'))
    writeFileSync(state, JSON.stringify({ ...doc, pid: 2 ** 22 + 4321 }))
    writeFileSync(join(s.root, 'run'), '1')
    writeFileSync(join(s.root, 'sleep_millisecs'), '5')
    const r = await cli(['kernel', 'restore'], { SAMEPAGE_KSM_STATE: state, SAMEPAGE_KSM_SYSFS: s.root })
    expect(r.code).toBe(0)
    expect(read(s, 'run')).toBe('0')
    expect(read(s, 'sleep_millisecs')).toBe('20')
    expect(existsSync(state)).toBe(false)
  })
})

describe('a kernel result in the app', () => {
  it('kernel.result.json validates as a result and its lane loads as kernel-ksm (drawn dashed)', async () => {
    const { buildResult, resultToText, parseResultText } = await import('../src/core/experiment/result.ts')
    const cfg = parseExperiment({ schema: 'samepage-lab/experiment@1', name: 'k', duration_s: 2, sample_every_s: 1, vms: [{ name: 'a', memory_mib: 16, workload: { kind: 'idle' } }], lanes: [{ name: 'Linux 6.18 KSM', scanner: { kind: 'ksm' } }] })
    const series = new Series()
    const row = new Float64Array(METRIC_COLUMNS.length)
    for (const t of [0, 1, 2]) {
      row[METRIC_INDEX.t_s] = t
      row[METRIC_INDEX.shared_other] = Number.NaN
      series.push(row)
    }
    const lane = kernelLaneSummary('Linux 6.18 KSM', series, { runWallS: 2, cpuNs: 1e6, workloadDone: [null] })
    const summary = { schema: 'samepage-lab/summary@1' as const, config_name: 'k', seed: 42, sim_seconds: 2, wall_seconds: 2, total_guest_pages: 4096, lanes: [lane], kernel: { release: '6.18' } }
    const text = resultToText(buildResult(cfg, summary, [{ name: lane.name, scanner: lane.scanner, columns: series.slice(0) }]))
    const r = parseResultText(text)
    if (!r.ok) throw new Error(JSON.stringify(r.issues))
    expect(r.result.lanes[0].scanner).toBe(KERNEL_SCANNER)
    expect(Number.isNaN(r.result.lanes[0].column('shared_other')[0])).toBe(true)
    expect(laneStyles([{ name: 'KSM', scanner: 'ksm', column: () => new Float64Array(0) }, r.result.lanes[0]])[1].dash.length).toBeGreaterThan(0)
  })
})
