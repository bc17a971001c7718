/**
 * Plain-word explanations of every counter, knob and results column the app shows (issue
 * 15.12), each with where it comes from: the kernel's sysfs documentation
 * (Documentation/admin-guide/mm/ksm.rst, the files of /sys/kernel/mm/ksm/), the function of
 * mm/ksm.c that does it, or the paper's section. The app shows them as tooltips; one table for
 * the column headers, the chart controls and the editor's knobs, so they cannot drift.
 * Also why a lane did nothing (laneNotes): a lane that shared no page, or a hint lane that
 * got no hints, says so and why, instead of showing zeros.
 */
import type { LaneSummary } from '../experiment/engine.ts'

export interface Explanation {
  /** What it means, in plain words. */
  text: string
  /** Where it comes from: a sysfs file, a kernel function, a paper section or our model. */
  source: string
}

const KSM_DOC = 'Documentation/admin-guide/mm/ksm.rst'
const PAPER = 'Inoue, Yamada, Kono 2014'

export const EXPLAIN: Readonly<Record<string, Explanation>> = {
  // The /sys/kernel/mm/ksm/ counters.
  pages_shared: {
    text: 'Frames that now hold a merged page (one per distinct shared content): the KSM pages in the stable tree. Not what is saved: one frame kept per content.',
    source: `/sys/kernel/mm/ksm/pages_shared, ${KSM_DOC}`
  },
  pages_sharing: {
    text: 'Guest pages mapped onto those frames beyond the first: how many pages the merging saves. Saved memory = pages_sharing x 4 KiB.',
    source: `/sys/kernel/mm/ksm/pages_sharing, ${KSM_DOC}`
  },
  pages_unshared: {
    text: 'Pages checked and found unique so far: they wait in the unstable tree for a twin.',
    source: `/sys/kernel/mm/ksm/pages_unshared, ${KSM_DOC}; unstable_tree_search_insert() in mm/ksm.c`
  },
  pages_volatile: {
    text: 'Pages that changed since their last visit (the checksum moved), so KSM leaves them out of both trees this time: written too often to merge.',
    source: `/sys/kernel/mm/ksm/pages_volatile, ${KSM_DOC}; the checksum check of cmp_and_merge_page() in mm/ksm.c`
  },
  full_scans: {
    text: 'Complete passes over all mergeable memory; the unstable tree is thrown away after each.',
    source: `/sys/kernel/mm/ksm/full_scans, ${KSM_DOC}; scan_get_next_rmap_item() in mm/ksm.c`
  },
  stable_node_chains: {
    text: 'Contents shared by more than max_page_sharing pages, held as a chain of several frames.',
    source: `/sys/kernel/mm/ksm/stable_node_chains, ${KSM_DOC}`
  },
  stable_node_dups: {
    text: 'Frames in those chains (each shares the content with at most max_page_sharing pages).',
    source: `/sys/kernel/mm/ksm/stable_node_dups, ${KSM_DOC}`
  },
  // Knobs of a lane.
  pages_per_s: {
    text: 'Pages the scanner visits per second: pages_to_scan per wake-up times wake-ups per second.',
    source: `pages_to_scan / sleep_millisecs, ${KSM_DOC}; the paper's 5000, 1000 and 500 pages/s (section 5)`
  },
  pages_to_scan: {
    text: 'Pages ksmd visits each time it wakes up, before it sleeps again.',
    source: `/sys/kernel/mm/ksm/pages_to_scan, ${KSM_DOC}; ksm_do_scan() in mm/ksm.c`
  },
  sleep_millisecs: {
    text: 'How long ksmd sleeps between two batches of pages_to_scan pages.',
    source: `/sys/kernel/mm/ksm/sleep_millisecs, ${KSM_DOC}; ksm_scan_thread() in mm/ksm.c`
  },
  max_page_sharing: {
    text: 'Most guest pages that may share one frame; more make a chain of frames (stable_node_chains).',
    source: `/sys/kernel/mm/ksm/max_page_sharing, ${KSM_DOC}`
  },
  stable_node_chains_prune_millisecs: {
    text: 'How often KSM tidies chains of frames whose sharing fell.',
    source: `/sys/kernel/mm/ksm/stable_node_chains_prune_millisecs, ${KSM_DOC}`
  },
  use_zero_pages: {
    text: 'Merge empty pages with the kernel zero page instead of a KSM frame; counted in ksm_zero_pages, not pages_sharing.',
    source: `/sys/kernel/mm/ksm/use_zero_pages, ${KSM_DOC}`
  },
  smart_scan: {
    text: 'Skip pages that failed to merge on recent passes, for a few passes (Linux 6.7+).',
    source: `/sys/kernel/mm/ksm/smart_scan, ${KSM_DOC}`
  },
  advisor_mode: {
    text: 'Let the scan-time advisor raise or lower pages_to_scan to finish a pass in the target time (Linux 6.8+).',
    source: `/sys/kernel/mm/ksm/advisor_mode, ${KSM_DOC}`
  },
  advisor_target_scan_time: { text: 'The pass time the advisor aims for, seconds.', source: `/sys/kernel/mm/ksm/advisor_target_scan_time, ${KSM_DOC}` },
  advisor_max_cpu: { text: 'The most CPU the advisor lets ksmd use, % of one core.', source: `/sys/kernel/mm/ksm/advisor_max_cpu, ${KSM_DOC}` },
  advisor_min_pages_to_scan: { text: 'The advisor never sets pages_to_scan below this.', source: `/sys/kernel/mm/ksm/advisor_min_pages_to_scan, ${KSM_DOC}` },
  advisor_max_pages_to_scan: { text: 'The advisor never sets pages_to_scan above this.', source: `/sys/kernel/mm/ksm/advisor_max_pages_to_scan, ${KSM_DOC}` },
  hint_stack_size: {
    text: 'Page hints the hint stack holds; when full, a new hint overwrites the oldest (counted as dropped).',
    source: `${PAPER}, section 4.1 (the bounded circular hint stack, after XLH)`
  },
  hash_table_size: {
    text: 'Entries of the checksum hash table that replaces KSM\'s unstable tree for hinted pages.',
    source: `${PAPER}, section 4.2`
  },
  hint_zero_pages: {
    text: 'The guest also sends an attribute for the pages it zero-fills, so zero pages get hints too.',
    source: `${PAPER}, section 3.2 (zero pages are a target)`
  },
  hint_ratio: { text: 'Of each cycle of scan slots, how many pop hints (the rest walk memory linearly).', source: 'XLH (Miller et al., USENIX ATC 2013); docs/model.md' },
  linear_ratio: { text: 'Of each cycle of scan slots, how many walk memory linearly as KSM does.', source: 'XLH (Miller et al., USENIX ATC 2013); docs/model.md' },
  share_scan_time_s: { text: 'ESX aims to sample each VM\'s memory once in this many seconds.', source: 'Waldspurger, OSDI 2002; ESX\'s Mem.ShareScanTime' },
  ksm_share: { text: 'Share of the scan rate a background KSM walk gets; hints take the rest.', source: `${PAPER}, section 7 (future work); docs/model.md` },
  isolate_tenants: { text: 'Never merge pages of VMs of different tenants (no cross-tenant side channel).', source: 'ESX salting (VMware KB 2080735); docs/model.md' },
  // Results columns.
  sharing_ratio: {
    text: 'Guest pages backed by a shared frame / all guest pages, sampled over the run: mean, highest and at the end.',
    source: `${PAPER}, section 5 (Figure 6)`
  },
  saved_mib: { text: 'Memory the merging frees: pages_sharing x 4 KiB, mean over the run and at the end.', source: `pages_sharing, ${KSM_DOC}` },
  cpu_percent: {
    text: 'Modelled scanner CPU time / simulated time, in % of one core, as top shows it; the mean over the run.',
    source: `${PAPER}, Table 1; the cost model in docs/model.md`
  },
  pages_sharing_gained: {
    text: 'pages_sharing at the end minus at t = 0: what this run itself shared. Negative when merges made before the run (during boot) were broken by writes faster than the scanner made new ones.',
    source: 'our summary (docs/file-formats.md, pages_sharing_gained)'
  },
  cpu_ns_per_shared_page: { text: 'Scanner CPU over the run / pages the run shared: the price of one saved page.', source: 'our summary (docs/file-formats.md, cpu_ns_per_shared_page)' },
  hints_pushed: { text: 'Page hints made from matching attributes and pushed on the hint stack.', source: `${PAPER}, sections 3.1 and 4.1` },
  hints_dropped: { text: 'Hints overwritten on a full stack before the scanner popped them.', source: `${PAPER}, section 4.1 (bounded circular hint stack)` },
  hint_stack_depth: { text: 'Hints waiting on the stack; the scanner sleeps while it is empty.', source: `${PAPER}, section 4.1` },
  cow_breaks: { text: 'Writes to a shared page: each gives the writer a private copy again (copy-on-write fault).', source: 'break_cow() / do_wp_page(); docs/model.md' },
  cross_tenant_merges: { text: 'Merges that put pages of two tenants on one frame (0 with Isolate tenants).', source: 'docs/model.md, tenant isolation' },
  cpu_vs_first: { text: 'This lane\'s mean CPU / the first lane\'s.', source: 'our summary' },
  sharing_vs_first: { text: 'This lane\'s mean sharing ratio / the first lane\'s.', source: 'our summary' }
}

/** "text (source)" for a title attribute; '' for a name not explained. */
export function explainTitle(name: string): string {
  const e = EXPLAIN[name]
  return e ? `${e.text} Source: ${e.source}.` : ''
}

/** Scanner kinds that live on page hints alone or in part. */
const HINT_KINDS = new Set(['hint', 'hybrid'])

/**
 * Why a lane did little or nothing, in plain words (empty when it did what it should): a
 * scanner of kind none; a hint lane with no hints (no two VMs' page-cache pages had the same
 * path and offset); an XLH lane without hints (no virtual-disk reads); a lane that shared no
 * page over the run; a KSM walk that never finished a pass.
 */
export function laneNotes(lane: Pick<LaneSummary, 'scanner' | 'pages_sharing_gained' | 'pages_sharing' | 'full_scans'> & { hints?: { pushed: number } | null }, simSeconds: number): string[] {
  const kind = lane.scanner.toLowerCase()
  const notes: string[] = []
  if (kind === 'none') return ['No scanner: the baseline without page sharing.']
  const pushed = lane.hints?.pushed ?? 0
  if (HINT_KINDS.has(kind) && pushed === 0) {
    notes.push('Pushed 0 hints: no page-cache page of one VM had the same path and offset as one of another VM, so no attribute matched (paper, sections 3 and 4); the scanner slept.')
  } else if (kind === 'xlh' && pushed === 0) {
    notes.push('Pushed 0 hints: the VMs read nothing from their virtual disks, so XLH had no I/O hints; only its linear walk scanned.')
  }
  if (lane.pages_sharing === 0 && lane.pages_sharing_gained <= 0) notes.push('Shared nothing: no two guest pages with equal content were found in the pages this scanner visited.')
  if ((kind === 'ksm' || kind === 'xlh') && lane.full_scans === 0 && simSeconds > 0) notes.push(`No full pass in ${Math.round(simSeconds)} s: at this scan rate the walk has not reached every page yet, and the unstable tree was never dropped.`)
  return notes
}
