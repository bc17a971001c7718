import { describe, expect, it } from 'vitest'
import { experimentJsonSchema, nominalRate, pagesToScan, parseExperimentText, validateExperiment } from '../src/core/experiment/config.ts'
import { PRESETS } from '../src/core/experiment/presets.ts'

const minimal = {
  schema: 'samepage-lab/experiment@1',
  name: 'm',
  duration_s: 10,
  vms: [{ name: 'a', workload: { kind: 'idle' } }],
  lanes: [{ name: 'KSM', scanner: { kind: 'ksm' } }]
}

describe('experiment config', () => {
  it('fills defaults: KSM knobs as in ksm.rst, 512 MiB VMs, seed 42', () => {
    const r = validateExperiment(minimal)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const s = r.config.lanes[0].scanner
    expect([s.pages_to_scan, s.sleep_millisecs, s.max_page_sharing]).toEqual([100, 20, 256])
    expect(nominalRate(s)).toBe(5000)
    expect(r.config.vms[0].memory_mib).toBe(512)
    expect(r.config.seed).toBe(42)
  })

  it('errors name the field path', () => {
    const r = validateExperiment({ ...minimal, vms: [{ name: 'a', memory_mib: -5, workload: { kind: 'idle' } }] })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.issues.map((i) => i.path)).toContain('vms[0].memory_mib')
  })

  it('rejects unknown fields, scanner kinds and workload kinds by path', () => {
    const r = validateExperiment({ ...minimal, lanes: [{ name: 'x', scanner: { kind: 'nope' } }], bogus: 1 })
    expect(r.ok).toBe(false)
    if (r.ok) return
    const paths = r.issues.map((i) => i.path)
    expect(paths).toContain('lanes[0].scanner.kind')
    expect(paths.some((p) => p === '(root)' || p === 'bogus')).toBe(true)
  })

  it('rejects a VM larger than this machine can simulate', () => {
    const r = validateExperiment({ ...minimal, vms: [{ name: 'a', memory_mib: 1 << 20, workload: { kind: 'idle' } }] })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.issues[0].path).toBe('vms')
    expect(r.issues[0].message).toMatch(/must be at most 131,072 MiB per lane/)
  })

  it('reports invalid JSON as a root problem', () => {
    const r = parseExperimentText('{ "schema": ')
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.issues[0].path).toBe('(root)')
    expect(r.issues[0].message).toMatch(/invalid JSON/)
  })

  it('a scan rate may be given in pages per second', () => {
    const r = validateExperiment({ ...minimal, lanes: [{ name: 'k', scanner: { kind: 'ksm', pages_per_s: 1000 } }] })
    expect(r.ok && pagesToScan(r.config.lanes[0].scanner)).toBe(20)
  })

  it('every preset is valid', () => {
    for (const p of PRESETS) expect(validateExperiment(p.config).ok, p.name).toBe(true)
  })

  it('exports a JSON Schema that names the fields', () => {
    const s = experimentJsonSchema() as { properties?: Record<string, unknown> }
    expect(Object.keys(s.properties ?? {})).toEqual(expect.arrayContaining(['schema', 'vms', 'lanes', 'duration_s', 'seed']))
  })
})
