// A name the user chose never indexes a table by the prototype chain: lanes called
// "__proto__", "toString" or "constructor" round-trip through a result file like any other.
import { describe, expect, it } from 'vitest'
import { parseExperiment } from '../src/core/experiment/config.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { buildResult, parseResultText, resultToText } from '../src/core/experiment/result.ts'

describe('names that are Object.prototype keys', () => {
  it('lanes named __proto__, toString and constructor survive a result file', () => {
    const names = ['__proto__', 'toString', 'constructor']
    const config = parseExperiment({
      schema: 'samepage-lab/experiment@1',
      name: 'proto',
      duration_s: 10,
      sample_every_s: 5,
      vms: [{ name: '__proto__', memory_mib: 32, tenant: 'constructor', workload: { kind: 'idle' } }],
      lanes: names.map((name) => ({ name, scanner: { kind: 'ksm' } }))
    })
    const engine = new Engine(config)
    engine.run()
    const doc = buildResult(config, engine.summary(0.1), engine.lanes.map((l) => ({ name: l.cfg.name, scanner: l.cfg.scanner.kind, columns: l.series.slice(0) })))
    const text = resultToText(doc)
    expect(Object.keys(JSON.parse(text).series)).toEqual(names)
    const r = parseResultText(text)
    if (!r.ok) throw new Error(JSON.stringify(r.issues))
    expect(r.result.lanes.map((l) => [l.name, l.length])).toEqual(names.map((n) => [n, 3]))
  })

  it('a result whose series lack a lane named toString says so instead of reading a function', () => {
    const config = parseExperiment({
      schema: 'samepage-lab/experiment@1',
      name: 'proto',
      duration_s: 10,
      sample_every_s: 5,
      vms: [{ name: 'a', memory_mib: 32, workload: { kind: 'idle' } }],
      lanes: [{ name: 'toString', scanner: { kind: 'ksm' } }]
    })
    const engine = new Engine(config)
    engine.run()
    const doc = buildResult(config, engine.summary(0.1), [{ name: 'toString', scanner: 'ksm', columns: engine.lanes[0].series.slice(0) }])
    const d = JSON.parse(resultToText(doc))
    d.series = {}
    const r = parseResultText(JSON.stringify(d))
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues).toEqual([{ path: 'series.toString', message: 'missing: every lane of the config needs its series' }])
  })
})
