/**
 * The fields of an experiment a sweep axis can vary, as field paths: numbers and booleans of
 * the experiment, of every VM (`vms[*].…`) and of each VM and lane by name (`vms[vm1].…`,
 * `lanes[KSM].scanner.…`), and every lane's scanner knob where all lanes have it
 * (`lanes[*].scanner.…`). For the app's axis picker. Pure.
 */
import type { Experiment } from '../experiment/config.ts'

function leaves(v: unknown, prefix: string, out: string[]): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    if (typeof v === 'number' || typeof v === 'boolean') out.push(prefix)
    return
  }
  for (const [k, x] of Object.entries(v)) leaves(x, prefix ? `${prefix}.${k}` : k, out)
}

function common(lists: string[][]): string[] {
  if (lists.length === 0) return []
  return lists[0].filter((p) => lists.every((l) => l.includes(p)))
}

const ref = (name: string) => (/^[A-Za-z0-9_ -]+$/.test(name) && !/^\d+$/.test(name) ? name : JSON.stringify(name))

export function sweepableFields(config: Experiment): string[] {
  const out: string[] = []
  for (const k of ['duration_s', 'sample_every_s', 'seed'] as const) out.push(k)
  leaves(config.host, 'host', out)
  leaves(config.warmup, 'warmup', out)
  const vmLeaves = config.vms.map((vm) => {
    const l: string[] = []
    leaves({ ...vm, name: undefined, tenant: undefined }, '', l)
    return l
  })
  for (const p of common(vmLeaves)) out.push(`vms[*].${p}`)
  config.vms.forEach((vm, i) => vmLeaves[i].forEach((p) => out.push(`vms[${ref(vm.name)}].${p}`)))
  const laneLeaves = config.lanes.map((lane) => {
    const l: string[] = []
    leaves(lane, '', l)
    return l
  })
  for (const p of common(laneLeaves)) out.push(`lanes[*].${p}`)
  config.lanes.forEach((lane, i) => laneLeaves[i].forEach((p) => out.push(`lanes[${ref(lane.name)}].${p}`)))
  // pages_per_s is optional: offer it where a lane could take it (it replaces pages_to_scan).
  for (const name of ['*', ...config.lanes.map((l) => ref(l.name))]) {
    const p = `lanes[${name}].scanner.pages_per_s`
    if (!out.includes(p)) out.push(p)
  }
  return [...new Set(out)]
}
