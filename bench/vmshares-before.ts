// The per-VM results as computed before 2026-12-02 (src/core/vmshares.ts at 3f6753b, now src/core/experiment/vmshares.ts: two passes
// over the pages and a counting sort), kept for `npm run bench -- --only vmshares` to measure
// the current code against in one run. Its tally of VM sets (PairSets) was the same code then
// and now, so it calls the current one. Not used by the app or the CLI.
/**
 * Per-VM sharing of one lane, read from its page tables and frames at one moment: which VM's
 * pages are shared, how much memory each VM's sharing saves, its CoW breaks, and which VMs share
 * with which (a VM x VM matrix of shared pages).
 *
 * Definitions (docs/model.md, "Per-VM results"):
 *  - shared_pages: pages of the VM on a frame with two or more mappings (the lane's
 *    sharing_ratio numerator, per VM).
 *  - saved: a KSM frame mapped by k guest pages saves k - 1 frames (pages_sharing in mm/ksm.c
 *    counts them); each mapping is given (k - 1) / k of a page. A mapping of the kernel zero page
 *    saves a whole page (ksm_zero_pages, `use_zero_pages`). So the VMs' saved pages sum to the
 *    lane's pages_sharing + ksm_zero_pages (its saved_mib).
 *  - matrix[a][b], a != b: pages of VM a on a frame that VM b also maps; matrix[a][a]: pages of VM
 *    a on a frame that another page of VM a also maps (sharing within the VM). Not symmetric: a
 *    VM holding one frame three times counts three pages against the other's one.
 *
 * Cost: two passes over the lane's guest pages plus, per group of pages on one KSM frame, its
 * distinct VMs squared. Frames whose VM sets are equal are added up first, so a frame shared by
 * all of 256 VMs costs its pages, not 256^2, except once per distinct set.
 */
import { FLAG_SHARED } from '../src/core/machine/memory.ts'

import { PairSets, type LaneVmShares, type VmShare, type VmShareInput } from '../src/core/experiment/vmshares.ts'

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6

export function vmShares(inp: VmShareInput, t: number): LaneVmShares {
  const { mem, vmBase, names } = inp
  const nVm = names.length
  const pf = mem.pageFrame
  const flags = mem.flags
  const zf = mem.zeroFrame
  const zeroGroup = inp.nodeIds // the zero page is one more group
  const nGroups = inp.nodeIds + 1
  const shared = new Float64Array(nVm)
  const saved = new Float64Array(nVm)
  const matrix = new Float64Array(nVm * nVm)
  // Pass 1: per-VM figures, and the pages in each group (group = stable node of the frame).
  const groupSize = new Int32Array(nGroups + 1)
  for (let v = 0; v < nVm; v++) {
    let sh = 0
    let sv = 0
    for (let gp = vmBase[v]; gp < vmBase[v + 1]; gp++) {
      const f = pf[gp]
      if (f < 0) continue
      if (f === zf) {
        sv += 1
        if ((flags[f] & FLAG_SHARED) !== 0) sh++
        groupSize[zeroGroup]++
        continue
      }
      if ((flags[f] & FLAG_SHARED) === 0) continue
      const k = mem.mapcountOf(f)
      sh++
      sv += (k - 1) / k
      groupSize[mem.ksmNode(f)]++
    }
    shared[v] = sh
    saved[v] = sv
  }
  // Counting sort of the shared pages' VMs by group: each group's run is in VM order, since
  // pages are visited in guest-page order and VMs are contiguous.
  const start = new Int32Array(nGroups + 1)
  for (let g = 0; g < nGroups; g++) start[g + 1] = start[g] + groupSize[g]
  const fill = start.slice(0, nGroups)
  const vmOf = new Int32Array(start[nGroups])
  for (let v = 0; v < nVm; v++) {
    for (let gp = vmBase[v]; gp < vmBase[v + 1]; gp++) {
      const f = pf[gp]
      if (f < 0) continue
      if (f === zf) vmOf[fill[zeroGroup]++] = v
      else if ((flags[f] & FLAG_SHARED) !== 0) vmOf[fill[mem.ksmNode(f)]++] = v
    }
  }
  // Per group: its distinct VMs (members) and pages per VM (counts). Groups with the same
  // members add their counts into one entry; the pairs are added once per distinct set.
  const sets = new PairSets()
  const members = new Int32Array(nVm)
  const counts = new Float64Array(nVm)
  for (let g = 0; g < nGroups; g++) {
    const a = start[g]
    const b = start[g + 1]
    if (b - a < 2) continue
    let m = 0
    for (let i = a; i < b; i++) {
      const v = vmOf[i]
      if (m > 0 && members[m - 1] === v) counts[m - 1]++
      else {
        members[m] = v
        counts[m] = 1
        m++
      }
    }
    for (let j = 0; j < m; j++) if (counts[j] >= 2) matrix[members[j] * nVm + members[j]] += counts[j]
    if (m < 2) continue
    sets.add(members, counts, m)
  }
  sets.addPairs(matrix, nVm)
  const vms: VmShare[] = names.map((name, v) => {
    const pages = vmBase[v + 1] - vmBase[v]
    return {
      vm: name,
      pages,
      shared_pages: shared[v],
      sharing_ratio: round6(pages > 0 ? shared[v] / pages : 0),
      saved_mib: round6(saved[v] / 256),
      cow_breaks: inp.cow[v]
    }
  })
  const rows: number[][] = []
  for (let a = 0; a < nVm; a++) rows.push(Array.from(matrix.subarray(a * nVm, (a + 1) * nVm)))
  return { t_s: round6(t), vms, matrix: rows }
}
