// The scenario presets that tell scanners apart: the paper's four cases (one preset each and a
// mixed one), office documents and the PaaS host, run through the engine with short durations.
import { describe, expect, it } from 'vitest'
import { parseExperiment, validateExperiment, type ExperimentInput } from '../src/core/experiment/config.ts'
import { Engine, type LaneSummary, type Summary } from '../src/core/experiment/engine.ts'
import type { Lane } from '../src/core/experiment/lane.ts'
import { CASE_PRESETS, findPreset } from '../src/core/experiment/presets.ts'
import { parseResultText } from '../src/core/experiment/result.ts'
import { FILE_CASES, fileCaseOf } from '../src/core/guests/workloads/cases.ts'
import { NS_APP, NS_CASES_COMMON, NS_RUNTIME_BASE, PATH_INDEX_BITS, PATH_INDEX_MASK, pathId } from '../src/core/guests/workloads/paths.ts'

function preset(name: string, over: Partial<ExperimentInput> = {}): ExperimentInput {
  const p = findPreset(name)
  if (!p) throw new Error(`preset ${name} missing`)
  return { ...structuredClone(p.config), ...over }
}

function run(input: ExperimentInput): { engine: Engine; summary: Summary; lane: (name: string) => LaneSummary } {
  const engine = new Engine(parseExperiment(input))
  engine.run(undefined, 30)
  const summary = engine.summary(0)
  const lane = (name: string) => {
    const l = summary.lanes.find((x) => x.name === name)
    if (!l) throw new Error(`lane ${name} missing`)
    return l
  }
  return { engine, summary, lane }
}

/** Host frame of page `off` of the file at `path` in VM `vm` of a lane (-1: not cached). */
function frameOf(lane: Lane, vm: number, path: number, off: number): number {
  const g = lane.vms[vm].guest
  const files = g.files
  for (let f = 0; f < files.count; f++) {
    if (files.pathId[f] !== path) continue
    const gfn = files.cachedGfn(f, off)
    if (gfn >= 0) return lane.mem.pageFrame[g.base + gfn]
  }
  return -1
}

/** File pages of namespace `ns` cached in VM `vm`, keyed by (path index, offset), to their frame. */
function pagesOf(lane: Lane, vm: number, ns: number): Map<number, number> {
  const g = lane.vms[vm].guest
  const files = g.files
  const out = new Map<number, number>()
  for (let f = 0; f < files.count; f++) {
    const p = files.pathId[f]
    const c = files.cacheOf(f)
    if (Math.floor(p / 2 ** PATH_INDEX_BITS) !== ns || !c) continue
    for (let o = 0; o < c.length; o++) if (c[o] >= 0) out.set((p & PATH_INDEX_MASK) * 65536 + o, lane.mem.pageFrame[g.base + c[o]])
  }
  return out
}

/** Of the pages both VMs cache under the same key, the fraction on one frame. */
function sameFrames(a: Map<number, number>, b: Map<number, number>): number {
  let both = 0
  let same = 0
  for (const [k, f] of a) {
    const g = b.get(k)
    if (g === undefined) continue
    both++
    if (g === f) same++
  }
  return both > 0 ? same / both : Number.NaN
}

const laneNamed = (e: Engine, name: string): Lane => e.lanes.find((l) => l.cfg.name === name) as Lane
/** Case presets: 768 files x 8 pages per VM, two VMs: one VM's pages can be saved. */
const CASE_PAGES = 768 * 8
const SHORT = { duration_s: 90 }

describe('the four cases', () => {
  it('case 1 (same path, same content): both share every file page, Hint at a fraction of the CPU per page', () => {
    const { lane } = run(preset(CASE_PRESETS[0].name, SHORT))
    const ksm = lane('KSM')
    const hint = lane('Hint')
    expect(ksm.pages_sharing_gained).toBe(CASE_PAGES)
    expect(hint.pages_sharing_gained).toBe(CASE_PAGES)
    expect(hint.hints.pushed).toBe(2 * CASE_PAGES)
    expect(hint.cpu_ns_per_shared_page).not.toBeNull()
    expect(ksm.cpu_ns_per_shared_page).not.toBeNull()
    expect(hint.cpu_ns_per_shared_page as number).toBeLessThan((ksm.cpu_ns_per_shared_page as number) / 5)
  })

  it('case 2 (different path, different content): neither shares; no hint, no Hint CPU', () => {
    const { lane, engine } = run(preset(CASE_PRESETS[1].name, SHORT))
    for (const l of ['KSM', 'Hint']) {
      expect(lane(l).pages_sharing_gained).toBe(0)
      expect(lane(l).cpu_ns_per_shared_page).toBeNull()
    }
    expect(lane('Hint').hints.pushed).toBe(0)
    expect(laneNamed(engine, 'Hint').measuredCpuNs()).toBe(0)
    // KSM scans all memory all the same.
    expect(lane('KSM').cpu_percent.mean).toBeGreaterThan(1)
  })

  it('case 3 (same path, different content): Hint scans every hinted page and shares nothing', () => {
    const { lane, engine } = run(preset(CASE_PRESETS[2].name, SHORT))
    const hint = lane('Hint')
    expect(hint.hints.pushed).toBe(2 * CASE_PAGES)
    expect(hint.hints.popped).toBe(2 * CASE_PAGES)
    const ops = laneNamed(engine, 'Hint').measuredOpsPerSecond()
    expect(ops.hint_lookup * 90).toBeCloseTo(2 * CASE_PAGES, 0)
    expect(ops.checksum).toBeGreaterThan(0)
    expect(hint.cpu_percent.mean).toBeGreaterThan(0)
    expect(hint.pages_sharing_gained).toBe(0)
    expect(hint.cpu_ns_per_shared_page).toBeNull()
    expect(lane('KSM').pages_sharing_gained).toBe(0)
    // XLH hints the same pages (from disk reads) and shares nothing either.
    expect(lane('XLH').hints.pushed).toBe(2 * CASE_PAGES)
    expect(lane('XLH').pages_sharing_gained).toBe(0)
  })

  it('case 4 (different path, same content): KSM and XLH share every file page, ESX some, Hint none', () => {
    const { lane } = run(preset(CASE_PRESETS[3].name, SHORT))
    expect(lane('KSM').pages_sharing_gained).toBe(CASE_PAGES)
    expect(lane('Hint').hints.pushed).toBe(0)
    expect(lane('Hint').pages_sharing_gained).toBe(0)
    // XLH hints every page read from disk, whatever its path: its hash table finds the copies.
    expect(lane('XLH').hints.pushed).toBe(2 * CASE_PAGES)
    expect(lane('XLH').pages_sharing_gained).toBe(CASE_PAGES)
    // ESX samples at random: some of the copies by now, never more than all.
    expect(lane('ESX').pages_sharing_gained).toBeGreaterThan(0)
    expect(lane('ESX').pages_sharing_gained).toBeLessThanOrEqual(CASE_PAGES)
  })

  it('mixed: KSM shares cases 1 and 4, Hint case 1 only (four VMs, a quarter of the files each)', () => {
    const { lane } = run(preset('cases-mixed', SHORT))
    // Per case: 192 files x 8 pages in each of 4 VMs, 3 VMs' worth saved.
    const perCase = (CASE_PAGES / 4) * 3
    expect(lane('KSM').pages_sharing_gained).toBe(2 * perCase)
    expect(lane('Hint').pages_sharing_gained).toBe(perCase)
    // Cases 1 and 3 are hinted: each page of one VM names the path of one page of another.
    expect(lane('Hint').hints.popped).toBeGreaterThan(2 * perCase)
  })

  it('assigns files to cases in proportion to the weights, in index order', () => {
    const p = { files: 10, pages_per_file: 1, read_pages_per_s: 1, same_path_same_content: 2, different_path_different_content: 0, same_path_different_content: 1, different_path_same_content: 2 }
    expect(Array.from(fileCaseOf(p))).toEqual([0, 0, 0, 0, 2, 2, 3, 3, 3, 3])
  })

  it('rejects all-zero case weights, naming the field', () => {
    const doc = preset(CASE_PRESETS[0].name)
    const w = doc.vms[1].workload as Record<string, unknown>
    for (const c of FILE_CASES) w[c] = 0
    const r = validateExperiment(doc)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues.map((i) => i.path)).toContain('vms[1].workload.same_path_same_content')
  })

  it('is deterministic: the same config and seed give the same summary; another seed another order', () => {
    const input = preset('cases-mixed', { duration_s: 20 })
    const a = run(input)
    const b = run(input)
    expect(JSON.stringify(b.summary.lanes)).toBe(JSON.stringify(a.summary.lanes))
    const e1 = a.engine
    const e2 = run({ ...input, seed: 43 }).engine
    // The same common file lands on other gfns when the read order differs.
    const g = (e: Engine) => ((files) => Array.from({ length: files.count }, (_, f) => files.cachedGfn(f, 0)).join(','))(e.lanes[0].vms[0].guest.files)
    expect(g(e2)).not.toBe(g(e1))
    expect(frameOf(e1.lanes[0], 0, pathId(NS_CASES_COMMON, 0), 0)).toBeGreaterThanOrEqual(0)
  }, 180_000)
})

describe('office documents', () => {
  it('KSM shares the template headers across documents and VMs; hints find only the shared folder', () => {
    const { lane, engine } = run(preset('office-docs', SHORT))
    const ksm = lane('KSM')
    const hint = lane('Hint')
    // 3 VMs x 600 documents x 3 template pages, from 4 templates: all but 12 pages saved.
    const headers = 3 * 600 * 3 - 4 * 3
    expect(ksm.pages_sharing_gained).toBeGreaterThan(headers)
    expect(hint.pages_sharing_gained).toBeGreaterThan(0)
    expect(hint.pages_sharing_gained).toBeLessThan(ksm.pages_sharing_gained / 2)
    // Page 0 of each VM's own documents of one template: the same frame under KSM, not under Hint.
    const byTemplate = (l: Lane, vm: number): Map<number, number[]> => {
      const files = l.vms[vm].guest.files
      const m = new Map<number, number[]>()
      for (let f = 0; f < files.count; f++) {
        const gfn = files.prefixPages[f] > 0 ? (files.cachedGfn(f, 0)) : -1
        if (gfn < 0) continue
        const k = files.prefixKey[f]
        m.set(k, [...(m.get(k) ?? []), l.mem.pageFrame[l.vms[vm].guest.base + gfn]])
      }
      return m
    }
    const k0 = byTemplate(laneNamed(engine, 'KSM'), 0)
    const k1 = byTemplate(laneNamed(engine, 'KSM'), 1)
    expect(k0.size).toBe(4)
    for (const [key, frames] of k0) {
      // One KSM page per template page, or a few once max_page_sharing (256) mappings are reached.
      const all = [...frames, ...(k1.get(key) ?? [])]
      expect(new Set(all).size).toBeLessThanOrEqual(Math.ceil((all.length * 1.5) / 256))
    }
    const h0 = byTemplate(laneNamed(engine, 'Hint'), 0)
    for (const frames of h0.values()) expect(new Set(frames).size).toBeGreaterThan(frames.length / 2)
  })
})

describe('PaaS host', () => {
  it('runs: a tenant shares its app across its VMs, never with another tenant at the same path', () => {
    const input = preset('paas-host', { duration_s: 60 })
    input.lanes = input.lanes.filter((l) => l.scanner.kind !== 'none')
    const { lane, engine } = run(input)
    const vm = (name: string) => input.vms.findIndex((v) => v.name === name)
    const hint = laneNamed(engine, 'Hint')
    expect(hint.vms.filter((v) => v.started)).toHaveLength(input.vms.filter((v) => (v.start_s ?? 0) < 60).length)
    const [bank, bank2] = [pagesOf(hint, vm('bank1'), NS_APP), pagesOf(hint, vm('bank2'), NS_APP)]
    expect(bank.size).toBeGreaterThan(1000)
    expect(sameFrames(bank, bank2)).toBeGreaterThan(0.9)
    expect(sameFrames(pagesOf(hint, vm('shop1'), NS_APP), pagesOf(hint, vm('shop2'), NS_APP))).toBeGreaterThan(0.5)
    // The same path (/srv/app) in another tenant: other bytes, hinted, never shared (case 3).
    expect(sameFrames(pagesOf(hint, vm('shop1'), NS_APP), bank)).toBe(0)
    // Eight VMs starting at once overflow the hint stack: hints are dropped, oldest first.
    expect(lane('Hint').hints.dropped).toBeGreaterThan(0)
    expect(lane('Hint').pages_sharing_gained).toBeGreaterThan(0)
    expect(lane('Hint').cpu_ns_per_shared_page as number).toBeGreaterThan(0)
    // Satori: a tenant's VMs boot one image, so its app's blocks are shared at the reads; no frame
    // is ever shared by VMs of two images (shop and blog share debian-7's blocks, not their apps).
    const sat = laneNamed(engine, 'Satori')
    expect(sameFrames(pagesOf(sat, vm('bank1'), NS_APP), pagesOf(sat, vm('bank2'), NS_APP))).toBeGreaterThan(0.9)
    expect(sameFrames(pagesOf(sat, vm('shop1'), NS_APP), pagesOf(sat, vm('blog1'), NS_APP))).toBe(0)
    const imageOfFrame = new Map<number, string>()
    let mixed = 0
    sat.vms.forEach((v) => {
      for (let gfn = 0; gfn < v.guest.nPages; gfn++) {
        const f = sat.mem.pageFrame[v.guest.base + gfn]
        if (f < 0 || sat.mem.ksmNode(f) < 0) continue
        const seen = imageOfFrame.get(f)
        if (seen === undefined) imageOfFrame.set(f, v.cfg.image)
        else if (seen !== v.cfg.image) mixed++
      }
    })
    expect(imageOfFrame.size).toBeGreaterThan(1000)
    expect(mixed).toBe(0)
    expect(lane('Satori').pages_sharing_gained).toBeGreaterThan(0)
  }, 180_000)

  it('a runtime under /opt holds the same bytes as under /usr/local: KSM shares them, hints miss them', () => {
    const app = (install_prefix: '/usr/local' | '/opt') => ({ kind: 'web-app' as const, runtime: 'python-2.7' as const, install_prefix, app_mib: 2, heap_mib: 8 })
    const { engine, lane } = run({
      schema: 'samepage-lab/experiment@1',
      name: 'two-prefixes',
      duration_s: 90,
      sample_every_s: 5,
      warmup: { boot: true, share: true },
      vms: [
        { name: 'a', memory_mib: 256, tenant: 'a', workload: app('/usr/local') },
        { name: 'b', memory_mib: 256, tenant: 'b', workload: app('/opt') }
      ],
      lanes: [
        { name: 'KSM', scanner: { kind: 'ksm' } },
        { name: 'Hint', scanner: { kind: 'hint' } }
      ]
    })
    const rt = (l: Lane, v: number) => pagesOf(l, v, NS_RUNTIME_BASE + v)
    const ksm = laneNamed(engine, 'KSM')
    const hint = laneNamed(engine, 'Hint')
    expect(rt(ksm, 0).size).toBeGreaterThan(2000)
    expect(sameFrames(rt(ksm, 0), rt(ksm, 1))).toBe(1)
    expect(sameFrames(rt(hint, 0), rt(hint, 1))).toBe(0)
    // The runtime's heap part is identical too (anonymous: only KSM looks at it).
    expect(lane('KSM').pages_sharing_gained).toBeGreaterThan(rt(ksm, 0).size)
    // Different tenants: the apps at /srv/app differ; only the access log's path matches.
    expect(lane('Hint').pages_sharing_gained).toBe(0)
  })

  it('names a tenant per VM: 4 tenants x 3 VMs, staggered starts, three images', () => {
    const cfg = parseExperiment(preset('paas-host'))
    const tenants = new Map<string, number>()
    for (const v of cfg.vms) tenants.set(v.tenant, (tenants.get(v.tenant) ?? 0) + 1)
    expect([...tenants.values()]).toEqual([3, 3, 3, 3])
    expect(new Set(cfg.vms.map((v) => v.image)).size).toBe(3)
    expect(new Set(cfg.vms.map((v) => v.start_s)).size).toBeGreaterThan(4)
    expect(cfg.lanes.map((l) => l.scanner.kind)).toEqual(['ksm', 'hint', 'xlh', 'esx', 'hybrid', 'satori', 'ksm', 'none'])
    expect(cfg.lanes.map((l) => l.isolate_tenants)).toEqual([false, false, false, false, false, false, true, false])
  })
})

describe('summary fields', () => {
  it('a result saved before pages_sharing_gained existed still loads (the new fields read as NaN)', () => {
    const input = preset(CASE_PRESETS[0].name, { duration_s: 4 })
    const cfg = parseExperiment(input)
    const engine = new Engine(cfg)
    engine.run()
    const summary = engine.summary(0) as unknown as Record<string, unknown> & { lanes: Record<string, unknown>[] }
    for (const l of summary.lanes) {
      delete l.pages_sharing_gained
      delete l.cpu_ns_per_shared_page
    }
    const series: Record<string, Record<string, number[]>> = {}
    for (const l of engine.lanes) series[l.cfg.name] = { t_s: Array.from(l.series.column('t_s')) }
    const r = parseResultText(JSON.stringify({ schema: 'samepage-lab/result@1', config: cfg, summary, series }))
    expect(r.ok).toBe(true)
    if (r.ok) {
      expect(r.result.summary.lanes[0].pages_sharing_gained).toBeNaN()
      expect(r.result.summary.lanes[0].cpu_ns_per_shared_page).toBeNaN()
    }
  })
})

describe('the editor knows the scenario workloads', () => {
  it('every workload kind has a label, and every parameter of every kind a label', async () => {
    const { WORKLOAD_KINDS, WORKLOAD_LABELS, WORKLOAD_PARAM_LABELS, workloadParams } = await import('../src/renderer/src/stores/schemaInfo.ts')
    expect(WORKLOAD_KINDS).toEqual(expect.arrayContaining(['file-cases', 'office-docs', 'web-app']))
    for (const k of WORKLOAD_KINDS) {
      expect(WORKLOAD_LABELS[k], k).toBeDefined()
      for (const p of workloadParams(k)) expect(WORKLOAD_PARAM_LABELS[p.name], `${k}.${p.name}`).toBeDefined()
    }
    expect(workloadParams('web-app').find((p) => p.name === 'runtime')).toEqual({ name: 'runtime', type: 'select', options: ['python-2.7', 'ruby-2.0', 'openjdk-7'] })
  })
})
