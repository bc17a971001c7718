// Messages in the user's words, one line each, never forged by a value and never showing file
/* eslint-disable @typescript-eslint/no-explicit-any -- configs mutated freely to make bad input */
// contents: the message table (src/core/experiment/messages.ts) as the CLI and the app print it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../src/cli/main.ts'
import { seriesCsv } from '../src/core/experiment/engine.ts'
import { validateExperiment } from '../src/core/experiment/config.ts'
import { escapeControl, quantity } from '../src/core/experiment/messages.ts'
import { findJsonSyntaxError } from '../src/core/formats/json-error.ts'
import { idlePairExperiment } from './fixtures.ts'

const dir = mkdtempSync(join(tmpdir(), 'samepage-msg-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), stderrIsTTY: false })
  return { code, stdout, stderr }
}

const base = () => idlePairExperiment({ name: 'msg', duration_s: 20, sample_every_s: 5, memory_mib: 64 }) as Record<string, any>
const issuesOf = (mutate: (d: Record<string, any>) => void) => {
  const d = base()
  mutate(d)
  const r = validateExperiment(d)
  return r.ok ? [] : r.issues
}

describe('messages in the user words', () => {
  it('a memory size below the minimum reads "Memory must be at least 16 MiB"', () => {
    expect(issuesOf((d) => (d.vms[0].memory_mib = 8))).toEqual([{ path: 'vms[0].memory_mib', message: 'Memory must be at least 16 MiB' }])
  })

  it('limits in seconds carry the unit and a human duration', () => {
    expect(issuesOf((d) => (d.duration_s = 1e9))).toEqual([{ path: 'duration_s', message: 'Duration must be at most 604,800 s (7 days)' }])
    expect(quantity(5400, 's')).toBe('5,400 s (1 h 30 min)')
  })

  it('a long duration blames the duration, not the sample interval', () => {
    const issues = issuesOf((d) => {
      d.duration_s = 600_000
      d.sample_every_s = 0.1
    })
    expect(issues).toHaveLength(1)
    expect(issues[0].path).toBe('duration_s')
    expect(issues[0].message).toMatch(/^Duration must be at most 100,000 s .* at a sample interval of 0\.1 s/)
  })

  it('an out-of-range integer gives one message with the field limit, not 9007199254740991', () => {
    const issues = issuesOf((d) => (d.vms[0].memory_mib = 1e20))
    expect(issues).toEqual([{ path: 'vms[0].memory_mib', message: 'Memory must be at most 1,048,576 MiB' }])
    expect(JSON.stringify(issuesOf((d) => (d.seed = -1e300)))).not.toContain('9007199254740991')
  })

  for (const name of ['__proto__', 'toString', 'constructor', 'hasOwnProperty']) {
    it(`host.cpu_profile "${name}" is refused by validate, not a crash in run`, async () => {
      expect(issuesOf((d) => (d.host = { cpu_profile: name }))).toEqual([{ path: 'host.cpu_profile', message: 'CPU profile must be one of: xeon-x5560' }])
      const p = join(dir, `proto-${name}.json`)
      writeFileSync(p, JSON.stringify({ ...base(), host: { cpu_profile: name } }))
      const r = await cli('run', p)
      expect(r.code).toBe(2)
      expect(r.stderr).toBe('samepage: host.cpu_profile: CPU profile must be one of: xeon-x5560\n')
    })
  }
})

describe('one line means one line', () => {
  it('every truncation of a valid config is one line `file:line:column: invalid JSON: ...`', async () => {
    const text = JSON.stringify(base(), null, 2)
    const p = join(dir, 'cut.json')
    let cases = 0
    for (let n = 0; n < text.length; n += 7) {
      const cut = text.slice(0, n)
      writeFileSync(p, cut)
      const r = await cli('validate', p)
      expect(r.code).toBe(2)
      const lines = r.stderr.split('\n').filter(Boolean)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: invalid JSON: `))
      cases++
    }
    expect(cases).toBeGreaterThan(50)
  })

  it('the line and column point at the fault', () => {
    expect(findJsonSyntaxError('{\n  "a": 1\n  "b": 2\n}')).toEqual({ line: 3, column: 3, message: "expected ',' or '}', found '\"'" })
    expect(findJsonSyntaxError(JSON.stringify(base()))).toBeNull()
  })

  it('run names the file, line and column too', async () => {
    const p = join(dir, 'bad.json')
    writeFileSync(p, '{\n  "schema": "samepage-lab/experiment@1",\n  "name": "x",,\n}')
    const r = await cli('run', p)
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`samepage: ${p}:3:15: invalid JSON: expected a property name in double quotes, found ','\n`)
  })

  it('a VM name holding a line break is refused, and echoed with the break escaped', async () => {
    const forged = 'x\nsamepage: vms[9].name: forged'
    const issues = issuesOf((d) => {
      d.vms[0].name = forged
      d.vms[1].name = forged
    })
    expect(issues.map((i) => i.path)).toEqual(['vms[0].name', 'vms[1].name', 'vms[1].name'])
    expect(issues[0].message).toBe('VM name must not contain control characters (a line break, a tab, an escape)')
    expect(issues[2].message).toBe('duplicate VM name "x\\nsamepage: vms[9].name: forged"')
    const p = join(dir, 'forged.json')
    const d = base()
    d.vms[0].name = forged
    d.vms[1].name = forged
    writeFileSync(p, JSON.stringify(d))
    const r = await cli('run', p)
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(3)
    expect(r.stderr).not.toMatch(/^samepage: vms\[9\]/m)
  })

  it('an unknown key with a line break in it stays on its line', async () => {
    const p = join(dir, 'key.json')
    writeFileSync(p, JSON.stringify({ ...base(), 'a\nsamepage: forged': 1 }))
    const r = await cli('validate', p)
    expect(r.stderr).toBe('(root): unknown field "a\\nsamepage: forged"\n')
  })

  it('an unknown preset with a carriage return is escaped', async () => {
    const r = await cli('run', 'nope\rsamepage: ok')
    expect(r.stderr).toBe('samepage: unknown preset "nope\\rsamepage: ok" (see `samepage presets`)\n')
  })

  it('escapeControl writes every control character as an escape', () => {
    expect(escapeControl('a\u0000b\u001b[31mc\u2028d\u009f')).toBe('a\\u0000b\\u001b[31mc\\u2028d\\u009f')
  })
})

describe('messages never echo file contents', () => {
  const secret = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n'
  const secretFile = join(dir, 'passwd')
  writeFileSync(secretFile, secret)
  const leaks = (s: string) => ['root:x', 'daemon', 'nologin', '/bin/bash'].filter((w) => s.includes(w))

  it('a trace file that is not a trace names the file, line and field, not its bytes', async () => {
    const p = join(dir, 'trace-passwd.json')
    const d = base()
    d.vms[0].workload = { kind: 'trace', file: secretFile }
    writeFileSync(p, JSON.stringify(d))
    for (const cmd of ['validate', 'run']) {
      const r = await cli(cmd, p)
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/vms\[0\]\.workload\.file: .*passwd line 1: invalid JSON at column 1: /)
      expect(leaks(r.stderr)).toEqual([])
    }
  })

  it('a trace line with bad values describes them instead of quoting them', async () => {
    const { parseTrace } = await import('../src/core/formats/trace.ts')
    const lines = [
      '{"t": 0, "vm": "a", "op": "root:x:0:0", "gfn": 1}',
      '{"schema": "root:x:0:0"}',
      '{"t": 0, "vm": "a", "op": "write", "gfn": 1, "fp": "root:x:0:0"}',
      '{"t": "root:x:0:0", "vm": "a", "op": "free", "gfn": 1}',
      '{"t": 0, "vm": "a", "op": "alloc", "gfn": 1, "type": "root:x:0:0"}',
      '{"t": 0, "vm": "a", "op": "free", "gfn": 1, "root:x:0:0": 1}',
      'root:x:0:0:root:/root:/bin/bash'
    ]
    for (const l of lines) {
      let msg = ''
      try {
        parseTrace(l, 't.jsonl')
      } catch (e) {
        msg = (e as Error).message
      }
      expect(msg).toMatch(/^t\.jsonl line 1: /)
      expect(msg).not.toContain('root:x')
    }
  })

  it('a config file that is not JSON: where, not what', async () => {
    const r = await cli('run', secretFile)
    expect(r.stderr).toBe(`samepage: ${secretFile}:1:1: invalid JSON: expected a value, found 'r'\n`)
    expect(leaks(r.stderr)).toEqual([])
  })
})

describe('names', () => {
  for (const [what, mutate] of [
    ['lane', (d: Record<string, any>) => (d.lanes[0].name = 'K\rSM')],
    ['tenant', (d: Record<string, any>) => (d.vms[0].tenant = 't\t1')],
    ['trace VM', (d: Record<string, any>) => (d.vms[0].workload = { kind: 'trace', file: 'x.jsonl', vm: 'v\u001b' })],
    ['experiment', (d: Record<string, any>) => (d.name = 'n\u2028')]
  ] as const) {
    it(`a ${what} name with a control character is refused`, () => {
      const issues = issuesOf(mutate)
      expect(issues).toHaveLength(1)
      expect(issues[0].message).toMatch(/must not contain control characters/)
    })
  }

  it('series.csv quotes names per RFC 4180, a carriage return included', () => {
    const col = (v: number) => Float64Array.of(v)
    const lane = (name: string) => ({ name, series: { length: 1, column: () => col(1) } })
    const csv = seriesCsv([lane('plain'), lane('a,b'), lane('say "hi"'), lane('cr\rhere'), lane('lf\nhere')] as never)
    expect(csv.split('\n')[1].startsWith('plain,')).toBe(true)
    expect(csv).toContain('"a,b",')
    expect(csv).toContain('"say ""hi""",')
    expect(csv).toContain('"cr\rhere",')
    expect(csv).toContain('"lf\nhere",')
  })
})
