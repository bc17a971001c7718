import { describe, expect, it } from 'vitest'
import { parseExperiment } from '../src/core/experiment/config.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { EsxRig } from './harness.ts'

describe('ESX (Waldspurger, OSDI 2002, section 3.2)', () => {
  it('the hint table is one hash table with chaining: colliding hints are all kept', () => {
    const r = new EsxRig(256, { vms: 1, table: 16 })
    for (let gp = 0; gp < 256; gp++) r.write(gp, 1000 + gp) // all different: every page a hint
    for (let gp = 0; gp < 256; gp++) r.scanner.sample(gp)
    expect(r.scanner.pages_unshared).toBe(256) // direct-mapped, 16 slots would keep 16
    r.write(7, 1000 + 200) // page 7 now holds page 200's content
    r.scanner.sample(7)
    expect(r.stable.pages_sharing).toBe(1) // found page 200's hint down its bucket's chain
    r.check()
  })

  it('each share_scan_time_s visits every page of the VM once (a random permutation, not draws with replacement)', () => {
    const pages = 1000
    const r = new EsxRig(pages, { vms: 1, shareScanTime: 10, pagesToScan: 1000 })
    for (let gp = 0; gp < pages; gp++) r.write(gp, 5000 + gp)
    let t = 0
    while (r.scanner.sampledPerVm[0] < pages) {
      r.scanner.wake(t)
      t = r.scanner.nextWake
    }
    expect(r.scanner.sampledPerVm[0]).toBe(pages)
    expect(r.scanner.records).toBe(pages) // every page seen: with replacement only ~63 %
  })

  function run(esx: Record<string, unknown>, maxPageSharing = 256) {
    const engine = new Engine(
      parseExperiment({
        schema: 'samepage-lab/experiment@1',
        name: 'esx',
        duration_s: 20,
        sample_every_s: 5,
        vms: [
          { name: 'a', memory_mib: 192, workload: { kind: 'idle' } },
          { name: 'b', memory_mib: 192, workload: { kind: 'idle' } }
        ],
        lanes: [{ name: 'ESX', scanner: { kind: 'esx', pages_per_s: 50000, share_scan_time_s: 2, max_page_sharing: maxPageSharing, ...esx } }]
      })
    )
    engine.run()
    return engine.lanes[0]
  }

  /** Largest map count of a shared frame, and whether some frame is mapped from both VMs. */
  function frames(lane: ReturnType<typeof run>): { maxMaps: number; acrossVms: boolean } {
    const mem = lane.mem
    const half = lane.totalPages / 2
    const vmOf = new Map<number, number>()
    let across = false
    let maxMaps = 0
    for (let gp = 0; gp < lane.totalPages; gp++) {
      const f = mem.pageFrame[gp]
      if (f < 0 || mem.ksmNode(f) < 0) continue
      maxMaps = Math.max(maxMaps, mem.mapcountOf(f))
      const vm = gp < half ? 0 : 1
      const seen = vmOf.get(f)
      if (seen === undefined) vmOf.set(f, vm)
      else if (seen !== vm) across = true
    }
    return { maxMaps, acrossVms: across }
  }

  it('has no max_page_sharing limit: a shared frame takes any number of references', () => {
    const lane = run({}, 2)
    expect(lane.stable.stable_node_chains).toBe(0)
    expect(frames(lane).maxMaps).toBeGreaterThan(256)
  })

  it('salt: none shares across VMs; vm (ESXi 6.0+ default) never; tenant follows the tenants', () => {
    expect(frames(run({ salt: 'none' })).acrossVms).toBe(true)
    const perVm = run({ salt: 'vm' })
    expect(frames(perVm).acrossVms).toBe(false)
    expect(perVm.stable.savedPages).toBeGreaterThan(0) // sharing inside each VM goes on
    expect(frames(run({ salt: 'tenant' })).acrossVms).toBe(true) // both VMs in tenant "default"
  })
})
