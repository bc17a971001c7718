// Property tests: whatever the guests write and whichever scanner runs, a guest always reads
// back what it last wrote, no mapped frame has map count 0, and the counters add up.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseExperiment } from '../src/core/config.ts'
import { ZERO_FP_HI, ZERO_FP_LO } from '../src/core/content.ts'
import { Engine } from '../src/core/engine.ts'
import type { HostMemory } from '../src/core/memory.ts'
import { EsxRig, HintRig, HybridRig, KsmRig, XlhRig } from './harness.ts'

/** Frames mapped by guest pages of two different tenants. */
function framesAcrossTenants(mem: HostMemory, tenantOf: Uint8Array | null): number {
  if (!tenantOf) return 0
  const owner = new Int16Array(mem.frameCapacity).fill(-1)
  let bad = 0
  for (let gp = 0; gp < mem.totalPages; gp++) {
    const f = mem.pageFrame[gp]
    if (f < 0 || f === mem.zeroFrame) continue
    if (owner[f] < 0) owner[f] = tenantOf[gp]
    else if (owner[f] !== tenantOf[gp]) bad++
  }
  return bad
}



const PAGES = 24
const tenantsArb = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: PAGES, maxLength: PAGES })
// Content values from a small alphabet, so that pages often become equal; 0 = zero page.
// Scans and hints outnumber writes, so that merges happen and later writes hit merged pages.
const op = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('write' as const), gp: fc.integer({ min: 0, max: PAGES - 1 }), v: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('scan' as const), n: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('hint' as const), gp: fc.integer({ min: 0, max: PAGES - 1 }) }) }
)

describe('invariants under random guest activity', () => {
  it('KSM: reads return the last write; map counts and counters add up', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 300, size: 'large' }), fc.integer({ min: 2, max: 4 }), (ops, mps) => {
        const r = new KsmRig(PAGES, { pagesToScan: 5, maxPageSharing: mps })
        for (const o of ops) {
          if (o.kind === 'write') r.write(o.gp, o.v)
          else if (o.kind === 'scan') r.ksm.scanPages(o.n)
          r.check()
          expect(r.ksm.pages_unshared).toBeLessThanOrEqual(r.ksm.records)
        }
      }),
      { numRuns: 300 }
    )
  })

  it('Hint: reads return the last write; map counts and counters add up', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 300, size: 'large' }), (ops) => {
        const r = new HintRig(PAGES, { stack: 8, pagesToScan: 3, table: 16 })
        let t = 0
        for (const o of ops) {
          if (o.kind === 'write') r.write(o.gp, o.v)
          else if (o.kind === 'hint') r.stack.push(o.gp)
          else r.scanner.wake((t += 0.02))
          r.check()
        }
      }),
      { numRuns: 300 }
    )
  })

  it('XLH, ESX and hybrid: reads return the last write and counters add up; isolation never mixes tenants', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 200, size: 'large' }), tenantsArb, fc.boolean(), fc.constantFrom('xlh', 'esx', 'hybrid'), (ops, tenants, isolate, kind) => {
        const opts = { tenants, isolate, pagesToScan: 4, stack: 8, table: 16 }
        const r = kind === 'xlh' ? new XlhRig(PAGES, { ...opts, zeroPages: true, smart: true }) : kind === 'esx' ? new EsxRig(PAGES, { ...opts, vms: 3, shareScanTime: 0.1 }) : new HybridRig(PAGES, { ...opts, ksmShare: 0.5, zeroPages: true })
        let t = 0
        for (const o of ops) {
          // Content 0 is the zero page here, so use_zero_pages has work to do.
          if (o.kind === 'write' && o.v === 0) r.mem.write(o.gp, ZERO_FP_HI, ZERO_FP_LO)
          else if (o.kind === 'write') r.write(o.gp, o.v)
          else if (o.kind === 'hint' && !(r instanceof EsxRig)) r.stack.push(o.gp)
          else r.scanner.wake((t += 0.02))
          r.check()
          expect(r.scanner.pages_unshared).toBeGreaterThanOrEqual(0)
        }
        if (isolate) {
          expect(r.stable.cross_tenant_merges).toBe(0)
          expect(framesAcrossTenants(r.mem, r.stable.tenantOf)).toBe(0)
        }
      }),
      { numRuns: 300 }
    )
  })

  it('KSM with use_zero_pages, smart scan and tenants: invariants hold; isolation never mixes tenants', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 200, size: 'large' }), tenantsArb, fc.boolean(), (ops, tenants, isolate) => {
        const r = new KsmRig(PAGES, { pagesToScan: 5, maxPageSharing: 3, tenants, isolate, ksm: { use_zero_pages: true, smart_scan: true } })
        for (const o of ops) {
          // Content 0 is the zero page here, so use_zero_pages has work to do.
          if (o.kind === 'write' && o.v === 0) r.writeRaw(o.gp, ZERO_FP_HI, ZERO_FP_LO)
          else if (o.kind === 'write') r.write(o.gp, o.v)
          else if (o.kind === 'scan') r.ksm.scanPages(o.n)
          r.check()
        }
        if (isolate) {
          expect(r.stable.cross_tenant_merges).toBe(0)
          expect(framesAcrossTenants(r.mem, r.stable.tenantOf)).toBe(0)
        }
      }),
      { numRuns: 300 }
    )
  })

  it('whole engine, every scanner, random tenants: isolation never merges across tenants', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.constantFrom('ksm', 'hint', 'xlh', 'esx', 'hybrid'),
        fc.array(fc.constantFrom('t1', 't2', 't3'), { minLength: 2, maxLength: 3 }),
        (seed, kind, tenants) => {
          const scanner = kind === 'esx' ? { kind, pages_per_s: 5000, share_scan_time_s: 20 } : kind === 'ksm' ? { kind, pages_per_s: 5000, use_zero_pages: true } : { kind, pages_per_s: 5000 }
          const cfg = parseExperiment({
            schema: 'samepage-lab/experiment@1',
            name: 'tenants',
            seed,
            duration_s: 20,
            sample_every_s: 10,
            warmup: { boot: true, share: false },
            vms: tenants.map((tenant, i) => ({ name: `vm${i}`, tenant, memory_mib: 128, workload: { kind: 'kernel-build', units: 10, unit_cpu_s: 0.3, heap_mib: 4 } })),
            lanes: [{ name: kind, isolate_tenants: true, scanner }]
          })
          const e = new Engine(cfg, { checkInvariants: true })
          e.run()
          const lane = e.lanes[0]
          expect(e.summary(0).lanes[0].cross_tenant_merges).toBe(0)
          expect(framesAcrossTenants(lane.mem, lane.stable.tenantOf)).toBe(0)
          // It still shares within a tenant (the hint method only across VMs of one tenant).
          if (kind !== 'hint' || new Set(tenants).size < tenants.length) expect(lane.stable.pages_sharing).toBeGreaterThan(0)
        }
      ),
      { numRuns: 6 }
    )
  })

  it('whole engine: guests with real workloads never read what they did not write', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom('ksm', 'hint', 'xlh', 'esx', 'hybrid'), fc.integer({ min: 100, max: 5000 }), (seed, kind, rate) => {
        const cfg = parseExperiment({
          schema: 'samepage-lab/experiment@1',
          name: 'prop',
          seed,
          duration_s: 20,
          sample_every_s: 5,
          warmup: { boot: true, share: false },
          vms: [
            { name: 'a', memory_mib: 256, workload: { kind: 'kernel-build', units: 30, unit_cpu_s: 0.3, heap_mib: 4 } },
            { name: 'b', memory_mib: 256, workload: { kind: 'mem-micro', working_set_mib: 16, writes_per_s: 2000, work_s: 10 } }
          ],
          lanes: [{ name: kind, scanner: { kind, pages_per_s: rate, max_page_sharing: 2 } }]
        })
        const e = new Engine(cfg, { checkInvariants: true })
        e.run() // checks at every sample and at the end; throws on a violation
        expect(e.lanes[0].invariantsChecked).toBe(true)
      }),
      { numRuns: 6 }
    )
  })
})
