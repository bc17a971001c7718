/**
 * Presets in code: experiments users start from. The paper's own experiments come first.
 */
import type { ExperimentInput } from './config.ts'
import { EXPERIMENT_SCHEMA_ID } from './config.ts'

export interface Preset {
  name: string
  description: string
  config: ExperimentInput
}

/** Section 5 of the paper: two VMs, 1 vCPU and 512 MiB each, kernel build, 2400 s. */
function fig6(name: string, letter: string, rate: number): Preset {
  // KSM's sleep_millisecs stays at its default (20 ms); pages_to_scan sets the rate.
  const scanner = rateKnobs(rate)
  return {
    name,
    description: `Paper Figure 6(${letter}): kernel build in two 512 MiB VMs, KSM vs Hint at ${rate} pages/s, 2400 s`,
    config: {
      schema: EXPERIMENT_SCHEMA_ID,
      name,
      description: `Figure 6(${letter}) of Inoue, Yamada, Kono (IPSJ SIG OS 2014): sharing ratio over a kernel build at ${rate} pages/s.`,
      seed: 42,
      duration_s: 2400,
      sample_every_s: 10,
      host: { cpu_profile: 'xeon-x5560' },
      warmup: { boot: true, share: true },
      vms: kernelBuildVms(),
      lanes: [
        { name: 'KSM', scanner: { kind: 'ksm', ...scanner } },
        { name: 'Hint', scanner: { kind: 'hint', ...scanner } }
      ]
    }
  }
}

/** The paper's three scan rates (section 5), pages/s. */
export const PAPER_RATES = [5000, 1000, 500] as const

/** KSM's rate knobs for a rate in pages/s at the default sleep_millisecs (20 ms). */
function rateKnobs(rate: number): { pages_to_scan: number; sleep_millisecs: number } {
  return { pages_to_scan: Math.round((rate * 20) / 1000), sleep_millisecs: 20 }
}

function kernelBuildVms() {
  return [
    { name: 'vm1', vcpus: 1, memory_mib: 512, image: 'debian-7' as const, workload: { kind: 'kernel-build' as const } },
    { name: 'vm2', vcpus: 1, memory_mib: 512, image: 'debian-7' as const, workload: { kind: 'kernel-build' as const } }
  ]
}

/**
 * Figure 1's scan rates, pages/s (nominal: pages_to_scan per 20 ms). The paper does not give
 * them; the highest keeps ksmd busy on a whole core, as "the highest rate" must have.
 */
export const FIG1_RATES = [5000, 20000, 100000, 1000000, 5000000] as const
/** Work of each micro-benchmark run at full speed, seconds (the paper does not say). */
export const FIG1_WORK_S = 60

function fig1(name: string, kind: 'mem-micro' | 'cpu-micro', what: string): Preset {
  const workload = { kind, work_s: FIG1_WORK_S }
  return {
    name,
    description: `Paper Figure 1: ${what} micro-benchmark in four 512 MiB VMs on 4 cores, KSM off and at rising scan rates`,
    config: {
      schema: EXPERIMENT_SCHEMA_ID,
      name,
      description: `Figure 1 (preliminary experiment): run time of a ${what} micro-benchmark (after Wood et al.) in 4 VMs, 1 vCPU and 512 MiB each, on the quad-core X5560, with KSM off and at ${FIG1_RATES.join(', ')} pages/s.`,
      seed: 42,
      duration_s: 3 * FIG1_WORK_S,
      sample_every_s: 5,
      host: { cpu_profile: 'xeon-x5560' },
      warmup: { boot: true, share: false },
      vms: [1, 2, 3, 4].map((i) => ({ name: `vm${i}`, vcpus: 1, memory_mib: 512, image: 'debian-7' as const, workload })),
      lanes: [{ name: 'KSM off', scanner: { kind: 'none' } }, ...FIG1_RATES.map((r) => ({ name: `KSM ${r}`, scanner: { kind: 'ksm' as const, ...rateKnobs(r) } }))]
    }
  }
}

export const PRESETS: Preset[] = [
  fig1('paper-fig1', 'mem-micro', 'memory-intensive'),
  fig1('paper-fig1-cpu', 'cpu-micro', 'CPU-intensive'),
  {
    name: 'paper-fig2',
    description: 'Paper Figure 2: two identical VMs right after boot; pages allocated and shareable per page type',
    config: {
      schema: EXPERIMENT_SCHEMA_ID,
      name: 'paper-fig2',
      description: 'Figure 2: what is shareable right after booting two identical 512 MiB VMs, by page type (page cache, text, zero, other).',
      seed: 42,
      duration_s: 1,
      sample_every_s: 1,
      host: { cpu_profile: 'xeon-x5560' },
      warmup: { boot: true, share: false },
      vms: kernelBuildVms().map((v) => ({ ...v, workload: { kind: 'boot' as const } })),
      lanes: [{ name: 'Host', scanner: { kind: 'none' } }]
    }
  },
  fig6('paper-fig6a', 'a', 5000),
  fig6('paper-fig6b', 'b', 1000),
  fig6('paper-fig6c', 'c', 500),
  {
    name: 'paper-table1',
    description: 'Paper Table 1: mean scanner CPU of KSM and Hint at 5000, 1000 and 500 pages/s over the kernel build',
    config: {
      schema: EXPERIMENT_SCHEMA_ID,
      name: 'paper-table1',
      description: 'Table 1: average scanner CPU usage of KSM and the hint method at the three scan rates, over 2400 s of kernel build in two 512 MiB VMs.',
      seed: 42,
      duration_s: 2400,
      sample_every_s: 10,
      host: { cpu_profile: 'xeon-x5560' },
      warmup: { boot: true, share: true },
      vms: kernelBuildVms(),
      lanes: PAPER_RATES.flatMap((r) => [
        { name: `KSM ${r}`, scanner: { kind: 'ksm' as const, ...rateKnobs(r) } },
        { name: `Hint ${r}`, scanner: { kind: 'hint' as const, ...rateKnobs(r) } }
      ])
    }
  }
]

export const DEFAULT_PRESET = 'paper-fig6b'

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name)
}
