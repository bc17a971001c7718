// Experiment documents the tests share: two idle VMs compared under KSM and Hint, the
// cheapest host that still exercises both scanners.
import type { LaneSummary } from '../src/core/experiment/engine.ts'

export interface IdlePair {
  name: string
  duration_s: number
  sample_every_s: number
  memory_mib: number
}

export function idlePairExperiment(o: IdlePair) {
  return {
    schema: 'samepage-lab/experiment@1',
    name: o.name,
    duration_s: o.duration_s,
    sample_every_s: o.sample_every_s,
    vms: [
      { name: 'a', memory_mib: o.memory_mib, workload: { kind: 'idle' } },
      { name: 'b', memory_mib: o.memory_mib, workload: { kind: 'idle' } }
    ],
    lanes: [
      { name: 'KSM', scanner: { kind: 'ksm' } },
      { name: 'Hint', scanner: { kind: 'hint' } }
    ]
  }
}

/** A lane summary with every counter zero and no samples, for tests of what reads summaries. */
export function zeroLaneSummary(name: string, scanner: string, over: Partial<LaneSummary> = {}): LaneSummary {
  return {
    name,
    scanner,
    sharing_ratio: { mean: 0, max: 0, final: 0 },
    saved_mib: { mean: 0, max: 0, final: 0 },
    general_profit: { mean: 0, max: 0, final: 0 },
    cpu_percent: { mean: 0, max: 0 },
    pages_shared: 0,
    pages_sharing: 0,
    pages_sharing_gained: 0,
    cpu_ns_per_shared_page: null,
    pages_unshared: 0,
    pages_volatile: 0,
    full_scans: 0,
    stable_node_chains: 0,
    stable_node_dups: 0,
    pages_scanned: 0,
    hints: { pushed: 0, popped: 0, dropped: 0 },
    cow_breaks: 0,
    vm_exits: 0,
    cross_tenant_merges: 0,
    ksm_zero_pages: 0,
    pages_skipped: 0,
    invariants_checked: false,
    workload_done_s: [],
    events: [],
    events_omitted: 0,
    vms: [],
    vm_shared_pages: [],
    ...over
  }
}
