// The real kernel as a peer, on the real /sys/kernel/mm/ksm: runs only as root on Linux with KSM
// (CI on these machines), skips with a one-line reason elsewhere. Every test here that touches KSM
// is in this one file, so vitest runs them one after another (never two KSM users at once), and
// each checks that every knob is back as it was before it.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeSnapshot } from '../src/core/formats/snapshot.ts'
import { compareOnKernel } from '../src/cli/kernel.ts'
import { EXACT_COUNTERS } from '../src/kernel/compare.ts'
import { manyCopiesSnapshot, validationScenarios } from '../src/kernel/scenarios.ts'
import { defaultStatePath } from '../src/kernel/state.ts'
import { KSM_SYSFS, KsmSysfs } from '../src/kernel/sysfs.ts'

const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return `real-kernel tests skipped: not Linux (${process.platform})`
  if (process.getuid?.() !== 0) return 'real-kernel tests skipped: not root (they write /sys/kernel/mm/ksm)'
  if (!existsSync(join(KSM_SYSFS, 'run'))) return `real-kernel tests skipped: no ${KSM_SYSFS} (CONFIG_KSM off)`
  const run = readFileSync(join(KSM_SYSFS, 'run'), 'utf8').trim()
  const shared = Number(readFileSync(join(KSM_SYSFS, 'pages_shared'), 'utf8'))
  if (run === '1' || shared > 0) return `real-kernel tests skipped: KSM is in use on this host (run ${run}, pages_shared ${shared})`
  return undefined
}
const reason = skipReason()

const ksm = new KsmSysfs()
const knobs = () => ksm.record()

/** A config file of two snapshot VMs (600 copies of one page), with knobs unlike the defaults. */
function configFile(duration: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'samepage-kernel-'))
  for (const vm of [0, 1]) writeFileSync(join(dir, `vm${vm}.spsnap`), encodeSnapshot(manyCopiesSnapshot(vm, 300, 1000)))
  const cfg = {
    schema: 'samepage-lab/experiment@1',
    name: 'kill-me',
    duration_s: duration,
    sample_every_s: 1,
    vms: [0, 1].map((vm) => ({ name: `vm${vm}`, memory_mib: 16, snapshot_file: `vm${vm}.spsnap`, workload: { kind: 'idle', activity_pages_per_s: 0 } })),
    lanes: [{ name: 'KSM', scanner: { kind: 'ksm', pages_to_scan: 777, sleep_millisecs: 30, max_page_sharing: 16, use_zero_pages: true, smart_scan: false } }]
  }
  const file = join(dir, 'kill-me.samepage.json')
  writeFileSync(file, JSON.stringify(cfg))
  return file
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Start `kernel run`, wait until ksmd runs with its knobs, kill it with `signal`; its exit code. */
async function killMidRun(signal: NodeJS.Signals): Promise<number | null> {
  const child = spawn(process.execPath, [BIN, 'kernel', 'run', configFile(60)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  const until = Date.now() + 20_000
  while (!(ksm.read('run') === '1' && ksm.read('pages_to_scan') === '777' && existsSync(defaultStatePath()))) {
    if (Date.now() > until) throw new Error(`kernel run did not start: ${stderr}`)
    await sleep(50)
  }
  await sleep(1500) // mid-run: ksmd has merged some pages
  expect(Number(ksm.read('pages_shared'))).toBeGreaterThan(0)
  child.kill(signal)
  return exited
}

describe.skipIf(reason !== undefined)(reason ?? 'the real kernel (root, /sys/kernel/mm/ksm)', () => {
  it('a static scenario ends in the simulator\'s final state on the real KSM, and every knob is restored', async () => {
    const before = knobs()
    const s = validationScenarios().find((x) => x.name === 'copies-mps-16')
    if (!s) throw new Error('scenario copies-mps-16 is gone')
    const io = { stdout: () => {}, stderr: () => {}, stderrIsTTY: false }
    const { comparison } = await compareOnKernel(s.config, s.assets, undefined, false, io)
    for (const c of EXACT_COUNTERS) expect({ [c]: comparison.kernel.final[c] }).toEqual({ [c]: comparison.sim.final[c] })
    expect(comparison.kernel.final.stable_node_dups).toBe(38) // 600 mappings, 16 per KSM page
    expect(knobs()).toEqual(before)
    expect(ksm.read('pages_shared')).toBe('0')
  })

  it('SIGINT mid-run: the run stops with code 130 and every knob and run are as before', async () => {
    const before = knobs()
    expect(await killMidRun('SIGINT')).toBe(130)
    expect(knobs()).toEqual(before)
    expect(ksm.read('pages_shared')).toBe('0')
    expect(existsSync(defaultStatePath())).toBe(false)
  })

  it('SIGKILL mid-run leaves the state file, and `kernel restore` puts every knob back', async () => {
    const before = knobs()
    await killMidRun('SIGKILL')
    expect(existsSync(defaultStatePath())).toBe(true)
    expect(ksm.read('run')).toBe('1') // nothing could restore it
    const r = spawn(process.execPath, [BIN, 'kernel', 'restore'], { stdio: 'ignore' })
    expect(await new Promise((res) => r.on('exit', res))).toBe(0)
    expect(knobs()).toEqual(before)
    expect(ksm.read('pages_shared')).toBe('0')
    expect(existsSync(defaultStatePath())).toBe(false)
  })
})
