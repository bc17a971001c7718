/**
 * Sweep presets: the questions docs/sweeps.md answers with measured results.
 */
import { SWEEP_SCHEMA_ID, type SweepInput } from './schema.ts'

export interface SweepPreset {
  name: string
  description: string
  sweep: SweepInput
}

/** Simulated seconds of each sweep-scan-rate run: the kernel build's first 10 minutes. */
export const SCAN_RATE_DURATION_S = 600

export const SWEEP_PRESETS: SweepPreset[] = [
  {
    name: 'sweep-scan-rate',
    description: 'KSM and Hint on the kernel build (paper-fig6a), 100 to 20,000 pages/s on a log scale, 3 seeds: at what rate does KSM catch up, and at what CPU?',
    sweep: {
      schema: SWEEP_SCHEMA_ID,
      name: 'sweep-scan-rate',
      description: "Figure 6's kernel build in two 512 MiB VMs for its first 600 s, KSM and the hint method at 7 scan rates from 100 to 20,000 pages/s (sleep_millisecs 20), 3 seeds.",
      base: 'paper-fig6a',
      set: { duration_s: SCAN_RATE_DURATION_S },
      axes: [{ path: 'lanes[*].scanner.pages_per_s', from: 100, to: 20000, steps: 7, scale: 'log' }],
      seeds: 3,
      metrics: ['sharing_ratio.mean', 'saved_mib.mean', 'cpu_percent.mean', 'pages_sharing_gained', 'cpu_ns_per_shared_page']
    }
  },
  {
    name: 'sweep-hint-stack',
    description: 'The PaaS host (paas-host) with Hint and Hybrid, hint_stack_size 256 to 65,536: how large must the hint stack be?',
    sweep: {
      schema: SWEEP_SCHEMA_ID,
      name: 'sweep-hint-stack',
      description: 'paas-host (12 VMs of 4 tenants) with the two scanners that pop hints from the stack, at 9 stack sizes from 256 to 65,536 entries (powers of 2), 2 seeds.',
      base: 'paas-host',
      set: { lanes: [{ name: 'Hint', scanner: { kind: 'hint' } }, { name: 'Hybrid', scanner: { kind: 'hybrid' } }] },
      axes: [{ path: 'lanes[*].scanner.hint_stack_size', from: 256, to: 65536, steps: 9, scale: 'log' }],
      seeds: 2,
      metrics: ['sharing_ratio.mean', 'saved_mib.mean', 'cpu_percent.mean', 'hints.dropped', 'pages_sharing_gained']
    }
  }
]

export function findSweepPreset(name: string): SweepPreset | undefined {
  return SWEEP_PRESETS.find((p) => p.name === name)
}
