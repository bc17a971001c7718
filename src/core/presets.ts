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
  const scanner = { pages_to_scan: Math.round((rate * 20) / 1000), sleep_millisecs: 20 }
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
      vms: [
        { name: 'vm1', vcpus: 1, memory_mib: 512, image: 'debian-7', workload: { kind: 'kernel-build' } },
        { name: 'vm2', vcpus: 1, memory_mib: 512, image: 'debian-7', workload: { kind: 'kernel-build' } }
      ],
      lanes: [
        { name: 'KSM', scanner: { kind: 'ksm', ...scanner } },
        { name: 'Hint', scanner: { kind: 'hint', ...scanner } }
      ]
    }
  }
}

export const PRESETS: Preset[] = [fig6('paper-fig6a', 'a', 5000), fig6('paper-fig6b', 'b', 1000), fig6('paper-fig6c', 'c', 500)]

export const DEFAULT_PRESET = 'paper-fig6b'

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name)
}
