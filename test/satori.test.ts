// Satori (Miłoś et al., ATC 2009) as a lane: sharing at the moment a guest reads a block of its
// disk image, by block identity, so only VMs booted from one image ever share.
import { describe, expect, it } from 'vitest'
import { parseExperiment, type ExperimentInput } from '../src/core/experiment/config.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { diskImageIds, type Lane } from '../src/core/experiment/lane.ts'
import { findPreset } from '../src/core/experiment/presets.ts'
import type { SatoriScanner } from '../src/core/scanners/satori.ts'

const SATORI = [{ name: 'Satori', scanner: { kind: 'satori' as const } }]
const KSM = { name: 'KSM', scanner: { kind: 'ksm' as const } }

/** Two 64 MiB VMs reading 200 files of 4 pages of one case, with the given images. */
function cases(weight: string, images: [string, string], lanes: ExperimentInput['lanes'] = SATORI): ExperimentInput {
  const workload = { kind: 'file-cases', files: 200, pages_per_file: 4, same_path_same_content: 0, different_path_different_content: 0, same_path_different_content: 0, different_path_same_content: 0, [weight]: 1 }
  return {
    schema: 'samepage-lab/experiment@1',
    name: 'satori',
    seed: 7,
    duration_s: 20,
    sample_every_s: 5,
    warmup: { boot: true, share: true },
    vms: images.map((image, i) => ({ name: `vm${i}`, memory_mib: 128, image, workload })) as ExperimentInput['vms'],
    lanes
  }
}

function runLanes(input: ExperimentInput): { engine: Engine; gained: (lane: string) => number } {
  const engine = new Engine(parseExperiment(input), { checkInvariants: true })
  engine.run(undefined, 10)
  const s = engine.summary(0)
  return { engine, gained: (name) => (s.lanes.find((l) => l.name === name) as { pages_sharing_gained: number }).pages_sharing_gained }
}

describe('satori: sharing-aware block devices', () => {
  it('shares every case-1 page between two VMs of one image at their reads, at a small fraction of KSM CPU', () => {
    const { engine, gained } = runLanes(cases('same_path_same_content', ['debian-7', 'debian-7'], [...SATORI, KSM]))
    expect(gained('Satori')).toBe(800)
    const s = engine.summary(0)
    const cpu = (n: string) => (s.lanes.find((l) => l.name === n) as { cpu_percent: { mean: number } }).cpu_percent.mean
    expect(cpu('Satori')).toBeGreaterThan(0)
    expect(cpu('Satori')).toBeLessThan(cpu('KSM') / 20)
  })

  it('shares nothing between VMs booted from different images, even the same file at the same path', () => {
    const { engine, gained } = runLanes(cases('same_path_same_content', ['debian-7', 'centos-6']))
    expect(gained('Satori')).toBe(0)
    // Not even at boot: no frame is mapped by pages of both VMs.
    const lane = engine.lanes[0] as Lane
    expect(lane.stable.pages_sharing).toBe(sharedWithin(lane))
  })

  it('finds neither case 3 (the same path, other bytes) nor case 4 (the same bytes at other paths)', () => {
    expect(runLanes(cases('same_path_different_content', ['debian-7', 'debian-7'])).gained('Satori')).toBe(0)
    expect(runLanes(cases('different_path_same_content', ['debian-7', 'debian-7'])).gained('Satori')).toBe(0)
  })

  it('a shared block the guest rewrites is copied on write and its file moves to the overlay: read again, it is not shared', () => {
    const { engine } = runLanes(cases('same_path_same_content', ['debian-7', 'debian-7']))
    const lane = engine.lanes[0] as Lane
    const g = lane.vms[0].guest
    const files = g.files
    // A case-1 file that both VMs hold on one frame.
    let file = -1
    for (let f = 0; f < files.count && file < 0; f++) {
      const gfn = files.cachedGfn(f, 0)
      if (gfn >= 0 && lane.mem.mapcountOf(lane.mem.pageFrame[g.base + gfn]) >= 2 && files.sizePages[f] === 4) file = f
    }
    expect(file).toBeGreaterThanOrEqual(0)
    const cow = lane.mem.cowBreaks
    g.writeFile(file, 0, 1, 99)
    expect(lane.mem.cowBreaks).toBe(cow + 1)
    expect(files.overlay[file]).toBe(1)
    const sat = lane.scanner as SatoriScanner
    const overlay = sat.overlay_reads
    const shared = sat.shared_reads
    g.deleteFile(file)
    g.readFile(file, 0, 4)
    expect(sat.overlay_reads).toBe(overlay + 4)
    expect(sat.shared_reads).toBe(shared)
  })

  it('the guest names each freed page-cache page (a VM exit each), so a freed page is never offered to a reader', () => {
    const lanes = [...SATORI, { name: 'Unenlightened', scanner: { kind: 'satori' as const, free_page_hints: false } }]
    const { engine } = runLanes(cases('same_path_same_content', ['debian-7', 'debian-7'], lanes))
    const offered = engine.lanes.map((lane) => {
      const [a, b] = [lane.vms[0].guest, lane.vms[1].guest]
      // A case-1 file both VMs cached: both drop it, then VM 1 reads it again.
      let fa = -1
      for (let f = 0; f < a.files.count && fa < 0; f++) if (a.files.sizePages[f] === 4 && a.files.cachedGfn(f, 0) >= 0 && !a.files.overlay[f]) fa = f
      const path = a.files.pathId[fa]
      let fb = -1
      for (let f = 0; f < b.files.count; f++) if (b.files.pathId[f] === path) fb = f
      b.deleteFile(fb)
      const exits = a.vmExits
      a.deleteFile(fa)
      expect(a.vmExits - exits).toBe(lane.cfg.name === 'Satori' ? 4 : 0)
      const sat = lane.scanner as SatoriScanner
      const shared = sat.shared_reads
      b.readFile(fb, 0, 4)
      return sat.shared_reads - shared
    })
    // Told of the frees, the host has no holder left; not told, it maps the reader onto freed pages.
    expect(offered).toEqual([0, 4])
  })

  it('VMs share a disk image when they boot the same image model or the same image file', () => {
    const vm = (image: string, image_file?: string) => ({ name: 'x', image, image_file, workload: { kind: 'boot' } })
    const ids = diskImageIds(parseExperiment({ schema: 'samepage-lab/experiment@1', name: 'x', duration_s: 10, vms: [vm('debian-7'), vm('centos-6'), vm('debian-7'), vm('debian-7', 'a.img'), vm('centos-6', 'a.img')].map((v, i) => ({ ...v, name: `v${i}` })), lanes: SATORI }).vms)
    expect([...ids]).toEqual([0, 1, 0, 2, 2])
  })

  it('is a lane of every case preset, cases-mixed, office-docs and paas-host', () => {
    for (const name of ['case1-same-path-same-content', 'case2-diff-path-diff-content', 'case3-same-path-diff-content', 'case4-diff-path-same-content', 'cases-mixed', 'office-docs', 'paas-host']) {
      const kinds = (findPreset(name)?.config.lanes ?? []).map((l) => l.scanner.kind)
      expect(kinds, name).toContain('satori')
    }
  })
})

/** pages_sharing if only pages of VM 0 share with VM 0 and of VM 1 with VM 1. */
function sharedWithin(lane: Lane): number {
  const seen = new Map<number, [number, number]>()
  for (const v of lane.vms) {
    const g = v.guest
    for (let gfn = 0; gfn < g.nPages; gfn++) {
      const f = lane.mem.pageFrame[g.base + gfn]
      if (f < 0 || lane.mem.ksmNode(f) < 0) continue
      const c = seen.get(f) ?? [0, 0]
      c[v.ctx.vmIndex]++
      seen.set(f, c)
    }
  }
  let sharing = 0
  for (const [a, b] of seen.values()) {
    expect(a === 0 || b === 0).toBe(true)
    sharing += a + b - 1
  }
  return sharing
}
