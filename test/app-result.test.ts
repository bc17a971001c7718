// The result file format (src/core/experiment/result.ts, `samepage-lab/result@1`) and the file rules both
// hosts apply (src/core/experiment/files.ts).
import { beforeAll, describe, expect, it } from 'vitest'
import { sharingChart } from '../src/core/analysis/charts.ts'
import { parseExperiment } from '../src/core/experiment/config.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { experimentDocumentProblem, exportDataProblem, exportNameProblem, fileNameWithSuffix, isPngData, safeFileStem } from '../src/core/experiment/files.ts'
import { METRIC_COLUMNS, METRIC_INDEX } from '../src/core/experiment/metrics.ts'
import { buildResult, parseResultText, resultToText, validateResult, type ResultDocument } from '../src/core/experiment/result.ts'

const CONFIG = parseExperiment({
  schema: 'samepage-lab/experiment@1',
  name: 'result-test',
  duration_s: 20,
  sample_every_s: 5,
  vms: [{ name: 'a', memory_mib: 128, workload: { kind: 'idle' } }],
  lanes: [
    { name: 'KSM', scanner: { kind: 'ksm' } },
    { name: 'Hint', scanner: { kind: 'hint' } }
  ]
})

let doc: ResultDocument
let columns: Float64Array[][]

beforeAll(() => {
  const engine = new Engine(CONFIG)
  engine.run()
  columns = engine.lanes.map((l) => l.series.slice(0))
  doc = buildResult(
    CONFIG,
    engine.summary(0.5),
    engine.lanes.map((l, i) => ({ name: l.cfg.name, scanner: l.cfg.scanner.kind, columns: columns[i] }))
  )
})

const mutated = (edit: (d: ResultDocument) => void): string => {
  const d = JSON.parse(resultToText(doc)) as ResultDocument
  edit(d)
  return JSON.stringify(d)
}

describe('result file', () => {
  it('round-trips: the text parses back to the same config, summary and columns', () => {
    const text = resultToText(doc)
    expect(JSON.parse(text)).toEqual(doc)
    const r = parseResultText(text)
    if (!r.ok) throw new Error(JSON.stringify(r.issues))
    expect(r.result.config).toEqual(CONFIG)
    expect(r.result.summary).toEqual(doc.summary)
    expect(r.result.lanes.map((l) => [l.name, l.scanner, l.length])).toEqual([
      ['KSM', 'ksm', 5],
      ['Hint', 'hint', 5]
    ])
    expect(r.result.lanes[1].columns).toEqual(columns[1])
    expect(Array.from(r.result.lanes[0].column('t_s'))).toEqual([0, 5, 10, 15, 20])
  })

  it('a loaded result draws like a live run (LaneData for the chart specs)', () => {
    const r = parseResultText(resultToText(doc))
    if (!r.ok) throw new Error('invalid')
    expect(sharingChart(r.result.lanes).data.datasets.map((d) => d.data.length)).toEqual([5, 5])
  })

  it('writes a non-finite value as null and reads it back as NaN; a missing column reads as NaN', () => {
    const withNaN = buildResult(CONFIG, doc.summary, columns.map((c, i) => ({ name: CONFIG.lanes[i].name, scanner: 'x', columns: c.map((col, j) => (j === METRIC_INDEX.cpu_percent ? col.map(() => Number.NaN) : col)) })))
    expect(withNaN.series.KSM.cpu_percent).toEqual([null, null, null, null, null])
    const r = parseResultText(resultToText(withNaN))
    if (!r.ok) throw new Error(JSON.stringify(r.issues))
    expect(Number.isNaN(r.result.lanes[0].column('cpu_percent')[2])).toBe(true)

    const r2 = parseResultText(mutated((d) => delete (d.series.KSM as Record<string, unknown>).vm_exits))
    expect(r2.ok && Array.from(r2.result.lanes[0].column('vm_exits')).every(Number.isNaN)).toBe(true)
  })

  it('names the field of every problem', () => {
    const paths = (text: string) => {
      const r = parseResultText(text)
      return r.ok ? [] : r.issues.map((i) => i.path)
    }
    expect(paths('{ nope')).toEqual(['(root)'])
    expect(paths(mutated((d) => ((d as { schema: string }).schema = 'samepage-lab/result@9')))).toEqual(['schema'])
    expect(paths(mutated((d) => ((d.config as { duration_s: unknown }).duration_s = 'long')))).toEqual(['config.duration_s'])
    expect(paths(mutated((d) => delete (d.series as Record<string, unknown>).Hint))).toEqual(['series.Hint'])
    expect(paths(mutated((d) => d.series.KSM.sharing_ratio.pop()))).toEqual(['series.KSM.sharing_ratio'])
    expect(paths(mutated((d) => d.series.Hint.t_s.reverse()))).toEqual(['series.Hint.t_s[1]'])
    expect(paths(mutated((d) => d.summary.lanes.pop()))).toEqual(['summary.lanes'])
    expect(paths(mutated((d) => ((d.summary as { sim_seconds: unknown }).sim_seconds = 'x')))).toEqual(['summary.sim_seconds'])
    expect(validateResult(null).ok).toBe(false)
  })

  it('buildResult refuses lanes without every metric column', () => {
    expect(() => buildResult(CONFIG, doc.summary, [{ name: 'KSM', scanner: 'ksm', columns: [new Float64Array(1)] }])).toThrow(`expected ${METRIC_COLUMNS.length}`)
  })
})

describe('file rules shared by Electron and web mode', () => {
  it('export names are plain names with a known extension', () => {
    for (const ok of ['sharing.png', 'series.csv', 'summary.json', 'fig 6(b)+notes.txt', 'a_b-c.d.csv']) expect(exportNameProblem(ok), ok).toBeNull()
    for (const bad of ['../x.csv', 'a/b.csv', 'a\\b.csv', '.hidden.csv', 'x.exe', 'x', 'nul.csv', 'COM1.txt', `${'a'.repeat(130)}.csv`, '']) expect(exportNameProblem(bad), bad).not.toBeNull()
  })

  it('a .png must hold PNG bytes', () => {
    expect(isPngData(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true)
    expect(isPngData('\x89PNG')).toBe(false)
    expect(isPngData(new Uint8Array([1, 2, 3]))).toBe(false)
  })

  it('a .pdf must hold PDF bytes and a .svg SVG text; figure names pass', () => {
    for (const ok of ['paper-fig6b-sharing.svg', 'paper-fig6b-sharing.pdf']) expect(exportNameProblem(ok), ok).toBeNull()
    expect(exportDataProblem('a.pdf', new TextEncoder().encode('%PDF-1.4\n'))).toBeNull()
    expect(exportDataProblem('a.pdf', '%PDF-1.4')).toMatch(/does not hold PDF bytes/)
    expect(exportDataProblem('a.svg', '<?xml version="1.0"?><svg width="1"></svg>')).toBeNull()
    expect(exportDataProblem('a.svg', '<svg xmlns="http://www.w3.org/2000/svg"></svg>')).toBeNull()
    expect(exportDataProblem('a.svg', new Uint8Array([0x3c]))).toMatch(/does not hold SVG text/)
    expect(exportDataProblem('a.svg', '<html></html>')).toMatch(/does not hold SVG text/)
    expect(exportDataProblem('a.png', '<svg></svg>')).toMatch(/PNG bytes/)
    expect(exportDataProblem('series.csv', 'lane,t_s\n')).toBeNull()
  })

  it('Save takes experiment documents, drafts with field problems included', () => {
    expect(experimentDocumentProblem(JSON.stringify({ schema: 'samepage-lab/experiment@1', duration_s: -1 }))).toBeNull()
    expect(experimentDocumentProblem('{"schema":"samepage-lab/result@1"}')).toMatch(/schema/)
    expect(experimentDocumentProblem('[]')).toMatch(/not a JSON object/)
    expect(experimentDocumentProblem('')).toMatch(/invalid JSON/)
  })

  it('suggested names become safe file names with the right suffix', () => {
    expect(fileNameWithSuffix('fig6b', '.samepage.json', 'x')).toBe('fig6b.samepage.json')
    expect(fileNameWithSuffix('fig6b.samepage.json', '.samepage.json', 'x')).toBe('fig6b.samepage.json')
    expect(fileNameWithSuffix('run.result.json', '.samepage.json', 'x')).toBe('run.result.json')
    expect(fileNameWithSuffix('../../etc/passwd', '.samepage.json', 'x')).toBe('etc-passwd.samepage.json')
    expect(fileNameWithSuffix('', '.result.json', 'result')).toBe('result.result.json')
    expect(safeFileStem('a:b*c?', 'x')).toBe('a-b-c-')
  })
})
