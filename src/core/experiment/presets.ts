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

/**
 * The paper's four cases (section 6): two VMs of one image, each reading the same number of
 * files in one case, KSM and Hint at KSM's default rate. The VMs have booted and each scanner
 * has shared what it could before t = 0, so what a lane gains in the run is the case's files.
 */
export const CASE_PRESETS = [
  { name: 'case1-same-path-same-content', weight: 'same_path_same_content', what: 'same path, same content: hints find it, both share; Hint at a fraction of the CPU' },
  { name: 'case2-diff-path-diff-content', weight: 'different_path_different_content', what: 'different path, different content: nothing to share; Hint costs nothing, KSM scans anyway' },
  { name: 'case3-same-path-diff-content', weight: 'same_path_different_content', what: 'same path, different content: Hint scans every hinted page and shares nothing' },
  { name: 'case4-diff-path-same-content', weight: 'different_path_same_content', what: 'different path, same content: hints miss it, only KSM shares it' }
] as const

/** Files per VM, pages per file and read rate of the case presets: 24 MiB read in about 12 s. */
const CASE_FILES = { files: 768, pages_per_file: 8, read_pages_per_s: 500 }
const CASE_DURATION_S = 120

/**
 * One lane per scanner, each at KSM's default rate (100 pages per 20 ms) and defaults otherwise,
 * except ESX's per-VM sampling period: ESX's default (Mem.ShareScanTime, 60 min) would sample a
 * few hundred pages per second here, so it is set to 60 s, which lets the 5000 pages/s budget
 * bind as it does for the others (docs/scanners.md).
 */
export const SCANNER_LANES = [
  { name: 'KSM', scanner: { kind: 'ksm' as const } },
  { name: 'Hint', scanner: { kind: 'hint' as const } },
  { name: 'XLH', scanner: { kind: 'xlh' as const } },
  { name: 'ESX', scanner: { kind: 'esx' as const, share_scan_time_s: 60 } },
  { name: 'Hybrid', scanner: { kind: 'hybrid' as const } },
  { name: 'Satori', scanner: { kind: 'satori' as const } }
]
const NO_CASES = { same_path_same_content: 0, different_path_different_content: 0, same_path_different_content: 0, different_path_same_content: 0 }

function caseExperiment(name: string, description: string, vms: { name: string; workload: Record<string, number> }[]): ExperimentInput {
  return {
    schema: EXPERIMENT_SCHEMA_ID,
    name,
    description,
    seed: 42,
    duration_s: CASE_DURATION_S,
    sample_every_s: 2,
    host: { cpu_profile: 'xeon-x5560' },
    warmup: { boot: true, share: true },
    vms: vms.map((v) => ({ name: v.name, vcpus: 1, memory_mib: 256, image: 'debian-7' as const, workload: { kind: 'file-cases' as const, ...v.workload } })),
    lanes: SCANNER_LANES
  }
}

function casePreset(c: (typeof CASE_PRESETS)[number], i: number): Preset {
  const workload = { ...CASE_FILES, ...NO_CASES, [c.weight]: 1 }
  return {
    name: c.name,
    description: `Case ${i + 1} of the paper's four: ${c.what}`,
    config: caseExperiment(
      c.name,
      `The paper's case ${i + 1} (${c.weight.replaceAll('_', ' ')}): two 256 MiB VMs each read ${CASE_FILES.files} files of ${CASE_FILES.pages_per_file} pages, all in this case. Compare pages_sharing_gained and cpu_ns_per_shared_page of the scanners (KSM, Hint, XLH, ESX, Hybrid).`,
      [1, 2].map((n) => ({ name: `vm${n}`, workload }))
    )
  }
}

/** All four cases at once: four VMs, each reading files of every case in equal shares. */
function mixedCasesPreset(): Preset {
  const workload = { ...CASE_FILES, same_path_same_content: 1, different_path_different_content: 1, same_path_different_content: 1, different_path_same_content: 1 }
  return {
    name: 'cases-mixed',
    description: "The paper's four cases at once: four VMs, a quarter of each VM's files in each case",
    config: caseExperiment(
      'cases-mixed',
      `All four cases at once: four 256 MiB VMs each read ${CASE_FILES.files} files, a quarter in each case. KSM shares cases 1 and 4, Hint case 1 only; Hint also scans case 3 for nothing.`,
      [1, 2, 3, 4].map((n) => ({ name: `vm${n}`, workload }))
    )
  }
}

/** Office documents: three desktops open their users' documents made from shared templates. */
function officePreset(): Preset {
  return {
    name: 'office-docs',
    description: 'Office documents in three VMs: template headers shared across files and VMs at different paths; KSM finds them, hints mostly miss',
    config: {
      schema: EXPERIMENT_SCHEMA_ID,
      name: 'office-docs',
      description:
        "Three 256 MiB desktop VMs each open 600 documents made from 4 templates: the first 3 pages of every document are its template's, the bodies are the users' own. 10 % of the documents lie in a shared folder at the same path in every VM. The paper's closing idea: file formats whose headers are shared at other paths.",
      seed: 42,
      duration_s: CASE_DURATION_S,
      sample_every_s: 2,
      host: { cpu_profile: 'xeon-x5560' },
      warmup: { boot: true, share: true },
      vms: [1, 2, 3].map((n) => ({
        name: `desk${n}`,
        vcpus: 1,
        memory_mib: 256,
        image: 'debian-7' as const,
        workload: { kind: 'office-docs' as const, documents: 600, header_pages: 3, body_pages: 8, templates: 4, common_fraction: 0.1, opens_per_s: 40 }
      })),
      lanes: SCANNER_LANES
    }
  }
}

/**
 * A PaaS host: 4 tenants x 3 VMs. Tenants differ in OS image and runtime; two run the same
 * runtime under different install prefixes; VMs start at different times. One lane per
 * scanner: adding a scanner is one line in PAAS_LANES.
 */
const PAAS_TENANTS = [
  { tenant: 'shop', image: 'debian-7', runtime: 'python-2.7', install_prefix: '/usr/local', start_s: [0, 0, 60] },
  { tenant: 'blog', image: 'debian-7', runtime: 'python-2.7', install_prefix: '/opt', start_s: [0, 30, 90] },
  { tenant: 'bank', image: 'centos-6', runtime: 'openjdk-7', install_prefix: '/usr/local', start_s: [0, 0, 120] },
  { tenant: 'chat', image: 'ubuntu-12.04', runtime: 'ruby-2.0', install_prefix: '/usr/local', start_s: [20, 40, 150] }
] as const

export const PAAS_LANES = [
  ...SCANNER_LANES,
  { name: 'KSM isolated', isolate_tenants: true, scanner: { kind: 'ksm' as const } },
  { name: 'None', scanner: { kind: 'none' as const } }
]

function paasPreset(): Preset {
  return {
    name: 'paas-host',
    description: 'A PaaS host: 4 tenants x 3 VMs, three OS images, three runtimes (one at two install paths), staggered starts; every scanner, KSM with tenant isolation, and none',
    config: {
      schema: EXPERIMENT_SCHEMA_ID,
      name: 'paas-host',
      description:
        'Twelve 256 MiB VMs of four tenants on the quad-core X5560: shop and blog run Python on Debian (blog under /opt, shop under /usr/local), bank runs OpenJDK on CentOS, chat Ruby on Ubuntu. Each tenant deploys one app to its three VMs (same bytes at /srv/app; other tenants have other bytes there). VMs start between 0 and 150 s.',
      seed: 42,
      duration_s: 300,
      sample_every_s: 5,
      host: { cpu_profile: 'xeon-x5560' },
      warmup: { boot: true, share: true },
      vms: PAAS_TENANTS.flatMap((t) =>
        t.start_s.map((start, i) => ({
          name: `${t.tenant}${i + 1}`,
          tenant: t.tenant,
          vcpus: 1,
          memory_mib: 256,
          image: t.image,
          start_s: start,
          workload: { kind: 'web-app' as const, runtime: t.runtime, install_prefix: t.install_prefix, app_mib: 8, heap_mib: 32, requests_per_s: 20 }
        }))
      ),
      lanes: PAAS_LANES
    }
  }
}

/** The paper's experiments first, then the scenarios that tell scanners apart (docs/scanners.md). */
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
  },
  ...scenarioPresets()
]

function scenarioPresets(): Preset[] {
  return [...CASE_PRESETS.map(casePreset), mixedCasesPreset(), officePreset(), paasPreset()]
}

export const DEFAULT_PRESET = 'paper-fig6b'

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name)
}
