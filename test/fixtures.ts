// Experiment documents the tests share: two idle VMs compared under KSM and Hint, the
// cheapest host that still exercises both scanners.

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
