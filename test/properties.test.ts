// Property tests: whatever the guests write and whichever scanner runs, a guest always reads
// back what it last wrote, no mapped frame has map count 0, and the counters add up.
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { parseExperiment } from '../src/core/experiment/config.ts'
import { ZERO_FP_HI, ZERO_FP_LO } from '../src/core/machine/content.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { makeSnapshotHeader } from '../src/core/formats/snapshot.ts'
import { parseTrace } from '../src/core/formats/trace.ts'
import { filePageFp } from '../src/core/guests/guest.ts'
import type { HostMemory } from '../src/core/machine/memory.ts'
import { crossTenantOracle, deepCheck, EsxRig, HintRig, HybridRig, KsmRig, XlhRig } from './harness.ts'

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

/**
 * `npm run test:soak` (scripts/soak.mjs) multiplies the step-by-step properties' runs by
 * SAMEPAGE_SOAK_SCALE and skips the whole-engine ones; every property counts its steps (one
 * operation checked), printed at the end with the seed.
 */
const SOAK_SCALE = Math.max(1, Number(process.env.SAMEPAGE_SOAK_SCALE ?? 1) || 1)
const SOAK = SOAK_SCALE > 1
const runs = (n: number): number => n * SOAK_SCALE
let steps = 0
function stepCheck(r: Parameters<typeof deepCheck>[0]): void {
  steps++
  deepCheck(r)
}
afterAll(() => {
  if (SOAK) process.stderr.write(`soak: ${steps} property steps (seed ${process.env.FC_SEED ?? 'random'})\n`)
})

const PAGES = 24
const tenantsArb = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: PAGES, maxLength: PAGES })
// Content values from a small alphabet, so that pages often become equal; 0 = zero page.
// Scans and hints outnumber writes, so that merges happen and later writes hit merged pages.
const op = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('write' as const), gp: fc.integer({ min: 0, max: PAGES - 1 }), v: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('scan' as const), n: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('hint' as const), gp: fc.integer({ min: 0, max: PAGES - 1 }) }) }
)
// For xlh and hybrid: also drive one half directly (hinted pages or walked pages), so that any
// interleaving of the two halves, not only the wake-up's own order, meets the checks.
const mixedOp = fc.oneof(
  { weight: 8, arbitrary: op },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('half' as const), hinted: fc.boolean(), n: fc.integer({ min: 1, max: 8 }) }) }
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
          stepCheck(r)
        }
      }),
      { numRuns: runs(300) }
    )
  })

  it('Hint: reads return the last write; map counts and counters add up', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 300, size: 'large' }), tenantsArb, fc.boolean(), fc.constantFrom(2, 3, 256), (ops, tenants, isolate, maxPageSharing) => {
        const r = new HintRig(PAGES, { stack: 8, pagesToScan: 3, table: 16, tenants, isolate, maxPageSharing })
        let t = 0
        for (const o of ops) {
          if (o.kind === 'write') r.write(o.gp, o.v)
          else if (o.kind === 'hint') r.stack.push(o.gp)
          else r.scanner.wake((t += 0.02))
          r.check()
          stepCheck(r)
        }
        if (isolate) expect(r.stable.cross_tenant_merges).toBe(0)
      }),
      { numRuns: runs(300) }
    )
  })

  it('XLH, ESX and hybrid: reads return the last write and counters add up; isolation never mixes tenants', () => {
    fc.assert(
      fc.property(
        fc.array(mixedOp, { minLength: 20, maxLength: 200, size: 'large' }),
        tenantsArb,
        fc.boolean(),
        fc.constantFrom('xlh', 'esx', 'hybrid'),
        fc.constantFrom(2, 3, 256),
        fc.record({ zeroPages: fc.boolean(), smart: fc.boolean(), hintRatio: fc.integer({ min: 0, max: 3 }), linearRatio: fc.integer({ min: 0, max: 2 }), ksmShare: fc.constantFrom(0, 0.25, 0.5, 1), pruneMs: fc.constantFrom(0, 50) }),
        (ops, tenants, isolate, kind, maxPageSharing, k) => {
          // A small max_page_sharing fills KSM pages, so the walk's unstable tree meets pages the hint half merged.
          const opts = { tenants, isolate, pagesToScan: 4, stack: 8, table: 16, maxPageSharing, zeroPages: k.zeroPages, smart: k.smart, pruneMs: k.pruneMs }
          const r =
            kind === 'xlh'
              ? new XlhRig(PAGES, { ...opts, hintRatio: k.hintRatio, linearRatio: k.hintRatio + k.linearRatio === 0 ? 1 : k.linearRatio })
              : kind === 'esx'
                ? new EsxRig(PAGES, { ...opts, vms: 3, shareScanTime: 0.1 })
                : new HybridRig(PAGES, { ...opts, ksmShare: k.ksmShare })
          const crossExpected = crossTenantOracle(r.stable, r.mem)
          let t = 0
          for (const o of ops) {
            // Content 0 is the zero page here, so use_zero_pages has work to do.
            if (o.kind === 'write' && o.v === 0) r.mem.write(o.gp, ZERO_FP_HI, ZERO_FP_LO)
            else if (o.kind === 'write') r.write(o.gp, o.v)
            else if (o.kind === 'hint' && !(r instanceof EsxRig)) r.stack.push(o.gp)
            else if (o.kind === 'half' && !(r instanceof EsxRig)) {
              if (o.hinted) {
                for (let i = 0; i < o.n; i++) {
                  const gp = r.stack.pop()
                  if (gp >= 0) r.scanner.hinted.scanHinted(gp)
                }
              } else r.scanner.linear.scanPages(o.n)
            } else r.scanner.wake((t += 0.02))
            r.check()
            stepCheck(r)
          }
          expect(r.stable.cross_tenant_merges).toBe(crossExpected())
          if (isolate) {
            expect(r.stable.cross_tenant_merges).toBe(0)
            expect(framesAcrossTenants(r.mem, r.stable.tenantOf)).toBe(0)
          }
        }
      ),
      { numRuns: runs(300) }
    )
  })

  it('KSM with use_zero_pages, smart scan and tenants: invariants hold; isolation never mixes tenants', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 200, size: 'large' }), tenantsArb, fc.boolean(), fc.constantFrom(2, 3, 256), (ops, tenants, isolate, maxPageSharing) => {
        const r = new KsmRig(PAGES, { pagesToScan: 5, maxPageSharing, tenants, isolate, ksm: { use_zero_pages: true, smart_scan: true } })
        for (const o of ops) {
          // Content 0 is the zero page here, so use_zero_pages has work to do.
          if (o.kind === 'write' && o.v === 0) r.writeRaw(o.gp, ZERO_FP_HI, ZERO_FP_LO)
          else if (o.kind === 'write') r.write(o.gp, o.v)
          else if (o.kind === 'scan') r.ksm.scanPages(o.n)
          r.check()
          stepCheck(r)
        }
        if (isolate) {
          expect(r.stable.cross_tenant_merges).toBe(0)
          expect(framesAcrossTenants(r.mem, r.stable.tenantOf)).toBe(0)
        }
      }),
      { numRuns: runs(300) }
    )
  })

  it.skipIf(SOAK)('whole engine, every scanner, random tenants: isolation never merges across tenants', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.constantFrom('ksm', 'hint', 'xlh', 'esx', 'hybrid', 'satori'),
        fc.array(fc.constantFrom('t1', 't2', 't3'), { minLength: 2, maxLength: 3 }),
        (seed, kind, tenants) => {
          const scanner =
            kind === 'esx'
              ? { kind, pages_per_s: 5000, share_scan_time_s: 20 }
              : kind === 'hint' || kind === 'satori'
                ? { kind, pages_per_s: 5000 }
                : { kind, pages_per_s: 5000, use_zero_pages: true, smart_scan: kind !== 'ksm' }
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
          // It still saves pages within a tenant. The hint method only shares across VMs of one
          // tenant, and so does hybrid in 20 s (its slow KSM pass needs 65 s for a full pass);
          // with use_zero_pages, a VM's own duplicates may all be zero pages. Satori shares only
          // blocks another VM of the tenant read.
          if ((kind !== 'hint' && kind !== 'hybrid' && kind !== 'satori') || new Set(tenants).size < tenants.length) expect(lane.stable.pages_sharing + lane.stable.ksm_zero_pages).toBeGreaterThan(0)
        }
      ),
      { numRuns: 6 }
    )
  })

  it.skipIf(SOAK)('whole engine: guests with real workloads never read what they did not write', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom('ksm', 'hint', 'xlh', 'esx', 'hybrid', 'satori'), fc.integer({ min: 100, max: 5000 }), fc.boolean(), (seed, kind, rate, later) => {
        // The later kernels' options where the scanner has a linear walk (ksm, xlh, hybrid).
        const options = later && (kind === 'ksm' || kind === 'xlh' || kind === 'hybrid') ? { use_zero_pages: true, smart_scan: true } : {}
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
          lanes: [{ name: kind, scanner: { kind, pages_per_s: rate, max_page_sharing: 2, ...options } }]
        })
        const e = new Engine(cfg, { checkInvariants: true })
        e.run() // checks at every sample and at the end; throws on a violation
        expect(e.lanes[0].invariantsChecked).toBe(true)
      }),
      { numRuns: 6 }
    )
  })

  it.skipIf(SOAK)('trace replay on snapshot VMs: random allocs, writes, frees and file pages keep the invariants', () => {
    const fp = (v: number) => (v === 0 ? 'ac869b6f32d8bbdb' : v.toString(16).padStart(16, '0'))
    const event = fc.oneof(
      fc.record({ op: fc.constantFrom('alloc', 'write', 'free'), gfn: fc.integer({ min: 0, max: 15 }), v: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ op: fc.constantFrom('read-file', 'write-file'), path: fc.constantFrom('/a', '/b', '/lib/c.so'), page: fc.integer({ min: 0, max: 2 }), v: fc.integer({ min: 0, max: 3 }) })
    )
    const vmEvents = fc.array(fc.tuple(event, fc.boolean()), { minLength: 5, maxLength: 80 })
    fc.assert(
      fc.property(vmEvents, vmEvents, fc.constantFrom('ksm', 'hint'), (ea, eb, kind) => {
        const lines: string[] = []
        for (const [vm, evs] of [['a', ea], ['b', eb]] as const) {
          evs.forEach(([e, withFp], i) => {
            const t = i * 0.05
            if ('gfn' in e) lines.push(JSON.stringify({ t, vm, op: e.op, gfn: e.gfn, ...(e.op === 'free' || (e.op === 'alloc' && !withFp) ? {} : { fp: fp(e.v) }) }))
            else lines.push(JSON.stringify({ t, vm, op: e.op, path: e.path, offset: e.page * 4096, ...(withFp ? { fp: fp(e.v) } : {}) }))
          })
        }
        const snapshot = { header: makeSnapshotHeader('s', 'raw' as const), extents: [{ gfn: 2, fps: Uint32Array.from([0, 1, 0, 2, 0xac869b6f, 0x32d8bbdb, 0, 1]) }] }
        const cfg = parseExperiment({
          schema: 'samepage-lab/experiment@1',
          name: 'trace-prop',
          duration_s: 6,
          sample_every_s: 0.5,
          warmup: { boot: true, share: false },
          vms: ['a', 'b'].map((name) => ({ name, memory_mib: 16, snapshot_file: 's', workload: { kind: 'trace', file: 't' } })),
          lanes: [{ name: kind, scanner: { kind, pages_per_s: 5000, max_page_sharing: 2 } }]
        })
        const assets = new Map([
          ['s', { kind: 'snapshot' as const, snapshot }],
          ['t', { kind: 'trace' as const, trace: parseTrace(lines.join('\n')) }]
        ])
        const e = new Engine(cfg, { checkInvariants: true, assets })
        e.run() // checks at every sample and at the end; throws on a violation
        expect(e.lanes[0].vms.every((v) => v.main?.done())).toBe(true)
      }),
      { numRuns: 25 }
    )
  })

  it.skipIf(SOAK)('whole engine, scenario and idle workloads: every cached file page holds its file, template pages included', () => {
    const weight = fc.integer({ min: 0, max: 3 })
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom('ksm', 'hint'), fc.tuple(weight, weight, weight, weight), (seed, kind, w) => {
        const cfg = parseExperiment({
          schema: 'samepage-lab/experiment@1',
          name: 'prop-scenarios',
          seed,
          duration_s: 12,
          sample_every_s: 4,
          warmup: { boot: true, share: false },
          vms: [
            {
              name: 'cases',
              memory_mib: 256,
              workload: { kind: 'file-cases', files: 200, pages_per_file: 4, read_pages_per_s: 400, same_path_same_content: w[0], different_path_different_content: w[1], same_path_different_content: w[2], different_path_same_content: w[3] + 1 }
            },
            { name: 'office', memory_mib: 256, workload: { kind: 'office-docs', documents: 120, header_pages: 2, templates: 3, opens_per_s: 30 } },
            { name: 'app', memory_mib: 256, workload: { kind: 'web-app', runtime: 'ruby-2.0', app_mib: 2, heap_mib: 8, requests_per_s: 200 } },
            { name: 'idle', memory_mib: 64, workload: { kind: 'idle', activity_pages_per_s: 50 } }
          ],
          lanes: [{ name: kind, scanner: { kind, pages_per_s: 20000, max_page_sharing: 2 } }]
        })
        const e = new Engine(cfg, { checkInvariants: true })
        e.run()
        const lane = e.lanes[0]
        expect(lane.stable.pages_sharing).toBeGreaterThan(0)
        const want = new Uint32Array(2)
        const got = new Uint32Array(2)
        let checked = 0
        for (const v of lane.vms) {
          const g = v.guest
          for (let f = 0; f < g.files.count; f++) {
            const c = g.files.cacheOf(f)
            if (!c) continue
            for (let o = 0; o < c.length; o++) {
              if (c[o] < 0) continue
              filePageFp(want, g.files, f, o)
              lane.mem.read(g.base + c[o], got)
              if (got[0] !== want[0] || got[1] !== want[1]) throw new Error(`vm ${v.cfg.name}: file ${f} page ${o} does not hold its content`)
              checked++
            }
          }
        }
        expect(checked).toBeGreaterThan(1000)
      }),
      { numRuns: 3 }
    )
  })
})
