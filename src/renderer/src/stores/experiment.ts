/**
 * The experiment being edited: a draft config (deep reactive, may be invalid while the user
 * types), its validation by the core schema on every change, the file it belongs to and
 * whether it has unsaved changes. Files go through the Platform; nothing here knows whether it
 * runs in Electron or a browser.
 */
import { computed, reactive, ref, shallowRef, toRaw, watch } from 'vue'
import { createHistory } from './history.ts'
import { MAX_LANES, MAX_VMS, nominalRate, pagesToScan, parseExperimentText, validateExperiment, type ConfigIssue, type Experiment, type ExperimentInput } from '../../../core/experiment/config.ts'
import { DEFAULT_PRESET, PRESETS, findPreset } from '../../../core/experiment/presets.ts'
import type { OpenedFile, Platform, SavedFile } from '../platform/types.ts'
import { defaultVm, defaultWorkload, scannerOfKind, uniqueName, type ScannerKind, type WorkloadKind } from './schemaInfo.ts'
import type { Notices } from './notices.ts'

export const APP_NAME = 'Samepage Lab'
export const CONFIG_EXTENSION = '.samepage.json'

/** The document text of a draft: what Save writes and what "dirty" compares. */
export function serializeConfig(draft: unknown): string {
  return JSON.stringify(draft, null, 2) + '\n'
}

/** A deep copy of part of the draft (a reactive proxy cannot be cloned as it is). */
function copy<T extends object>(x: T): T {
  return structuredClone(toRaw(x))
}

/** A config with every default filled in (the draft the editor shows). */
function filled(input: ExperimentInput): Experiment {
  const r = validateExperiment(input)
  if (!r.ok) throw new Error(`built-in config is invalid: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`)
  return r.config
}

function defaultPresetConfig(): Experiment {
  const preset = findPreset(DEFAULT_PRESET) ?? PRESETS[0]
  return filled(preset.config)
}

/** File name for a config: its name, made safe for file systems. */
export function fileNameFor(name: string, extension = CONFIG_EXTENSION): string {
  const stem = name.trim().replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'experiment'
  return stem + extension
}

export type RateMode = 'pages_per_s' | 'pages_to_scan'

export function rateMode(s: { pages_per_s?: number }): RateMode {
  return s.pages_per_s === undefined ? 'pages_to_scan' : 'pages_per_s'
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.path}: ${friendlyMessage(i.message)}`
}

/**
 * An issue's message as the editor shows it: the core's message table (src/core/experiment/messages.ts)
 * already words it for people, the same as the CLI prints it.
 */
export function friendlyMessage(message: string): string {
  return message
}

/** A lane's default name for each scanner (Add lane, and the rename on a scanner switch). */
export const SCANNER_NAMES: Readonly<Record<ScannerKind, string>> = { ksm: 'KSM', hint: 'Hint', xlh: 'XLH', esx: 'ESX', hybrid: 'Hybrid', satori: 'Satori', none: 'None' }

export function createExperimentStore(platform: Platform, notices: Notices) {
  const draft = ref<Experiment>(defaultPresetConfig())
  const file = shallowRef<SavedFile | null>(null)
  /** The text last opened or saved; '' when the document was never saved (a preset). */
  const savedText = ref(serializeConfig(draft.value))
  /** The preset the draft came from, while it has no file of its own. */
  const preset = ref<string>(DEFAULT_PRESET)

  const text = computed(() => serializeConfig(draft.value))
  const dirty = computed(() => text.value !== savedText.value)
  const validation = computed(() => validateExperiment(JSON.parse(text.value)))
  const config = computed<Experiment | null>(() => (validation.value.ok ? validation.value.config : null))
  /**
   * Why the session refused to run a config (it does not fit this machine's memory:
   * src/core/experiment/estimate.ts), kept while the draft is that config; its issues count as the draft's.
   */
  const refusal = shallowRef<{ key: string; issues: ConfigIssue[] } | null>(null)
  const issues = computed<ConfigIssue[]>(() => {
    if (!validation.value.ok) return validation.value.issues
    const r = refusal.value
    return r !== null && r.key === JSON.stringify(config.value) ? r.issues : []
  })
  const docName = computed(() => file.value?.name ?? (draft.value.name.trim() || 'Untitled'))
  const title = computed(() => `${dirty.value ? '● ' : ''}${docName.value} — ${APP_NAME}`)

  /** Field paths that have an editor on screen: their issues show next to them. */
  const placed = reactive(new Map<string, number>())
  const issuesByPath = computed(() => {
    const m = new Map<string, string[]>()
    for (const i of issues.value) m.set(i.path, [...(m.get(i.path) ?? []), friendlyMessage(i.message)])
    return m
  })
  /** Issues with no field on screen (e.g. a total over all VMs): shown in a list instead. */
  const unplacedIssues = computed(() => issues.value.filter((i) => !placed.has(i.path)))

  function placeField(path: string): () => void {
    placed.set(path, (placed.get(path) ?? 0) + 1)
    return () => {
      const n = (placed.get(path) ?? 1) - 1
      if (n <= 0) placed.delete(path)
      else placed.set(path, n)
    }
  }

  function replace(next: Experiment, opts: { file: SavedFile | null; saved: boolean; preset: string }): void {
    draft.value = next
    file.value = opts.file
    preset.value = opts.preset
    savedText.value = opts.saved ? serializeConfig(next) : ''
    history.reset(serializeConfig(next))
  }

  // Undo and redo of edits (Ctrl+Z, Ctrl+Shift+Z): every change of the document text is a step;
  // a new document, a preset or an opened file starts a new history.
  const history = createHistory(serializeConfig(draft.value))
  watch(text, (t) => history.record(t))
  const canUndo = computed(() => history.canUndo.value)
  const canRedo = computed(() => history.canRedo.value)
  function undo(): boolean {
    const t = history.undo()
    if (t === null) return false
    draft.value = JSON.parse(t) as Experiment
    return true
  }
  function redo(): boolean {
    const t = history.redo()
    if (t === null) return false
    draft.value = JSON.parse(t) as Experiment
    return true
  }

  /** A fresh document (the default preset's setup, untitled), with nothing to save yet. */
  function newDocument(): void {
    const cfg = defaultPresetConfig()
    cfg.name = 'untitled'
    cfg.description = ''
    replace(cfg, { file: null, saved: true, preset: '' })
  }

  /**
   * Load a preset: a new experiment with no file yet. Picking it is not an unsaved change (the
   * preset is there to pick again); the first edit is.
   */
  function loadPreset(name: string): boolean {
    const p = findPreset(name)
    if (!p) {
      notices.error(`Unknown preset "${name}"`)
      return false
    }
    replace(filled(p.config), { file: null, saved: true, preset: p.name })
    return true
  }

  /**
   * Load an opened config; on a bad document (issues found by the host, or by validating the
   * text here) the current experiment is unchanged and the problems are shown by field path.
   */
  function loadOpened(f: OpenedFile): boolean {
    const r = f.issues && f.issues.length > 0 ? ({ ok: false, issues: f.issues } as const) : parseExperimentText(f.text)
    if (!r.ok) {
      const what = r.issues.length === 1 ? (r.issues[0].path === '(root)' ? 'it is not a valid experiment' : 'a field is invalid') : `${r.issues.length} fields are invalid`
      notices.error(`Cannot open ${f.name}: ${what}`, r.issues.map(formatIssue))
      return false
    }
    replace(r.config, { file: { name: f.name, path: f.path }, saved: true, preset: '' })
    notices.clear()
    return true
  }

  /** Use a config that came with something else (a saved result): new and unsaved. */
  function adopt(cfg: Experiment): void {
    replace(copy(cfg), { file: null, saved: false, preset: '' })
  }

  async function open(): Promise<boolean> {
    const f = await platform.openConfig()
    if (!f) return false
    return loadOpened(f)
  }

  async function openRecent(path: string): Promise<boolean> {
    if (!platform.openRecent) return false
    const f = await platform.openRecent(path)
    if (!f) {
      notices.error(`Cannot open ${path}: it can no longer be read`)
      return false
    }
    return loadOpened(f)
  }

  /** Save to the document's file (Save) or to a new one (Save As); the draft as typed. */
  async function save(saveAs = false): Promise<boolean> {
    const body = text.value
    const suggestedName = file.value?.name ?? fileNameFor(draft.value.name)
    const saved = await platform.saveConfig(body, { path: file.value?.path, suggestedName, saveAs })
    if (!saved) return false
    file.value = saved
    preset.value = ''
    savedText.value = body
    if (issues.value.length > 0) notices.info(`Saved ${saved.name} with ${issues.value.length} problem(s) still to fix`)
    return true
  }

  // Edits. Each keeps the draft a valid shape (kinds with their fields); values may be invalid.

  function addVm(): void {
    const vms = draft.value.vms
    if (vms.length >= MAX_VMS) return
    const last = vms[vms.length - 1]
    const name = uniqueName(`vm${vms.length + 1}`, vms.map((v) => v.name))
    vms.push(last ? { ...copy(last), name } : defaultVm(name))
  }

  /** A copy of item i of a list of named items, right after it ("name-copy"), up to `max` items. */
  function duplicateNamed<T extends { name: string }>(items: T[], i: number, max: number): void {
    if (items.length >= max || !items[i]) return
    const dup: T = copy(items[i])
    dup.name = uniqueName(`${items[i].name}-copy`, items.map((x) => x.name))
    items.splice(i + 1, 0, dup)
  }

  /** Remove item i, keeping at least one. */
  function removeKeepingOne(items: unknown[], i: number): void {
    if (items.length > 1) items.splice(i, 1)
  }

  function duplicateVm(i: number): void {
    duplicateNamed(draft.value.vms, i, MAX_VMS)
  }

  function removeVm(i: number): void {
    removeKeepingOne(draft.value.vms, i)
  }

  function setWorkloadKind(i: number, kind: WorkloadKind): void {
    const vm = draft.value.vms[i]
    if (vm && vm.workload.kind !== kind) vm.workload = defaultWorkload(kind)
  }

  function addLane(): void {
    const lanes = draft.value.lanes
    if (lanes.length >= MAX_LANES) return
    const last = lanes[lanes.length - 1]
    const kind: ScannerKind = last?.scanner.kind === 'ksm' ? 'hint' : 'ksm'
    const base = SCANNER_NAMES[kind]
    lanes.push({ name: uniqueName(base, lanes.map((l) => l.name)), scanner: scannerOfKind(kind, last?.scanner), isolate_tenants: last?.isolate_tenants ?? false })
  }

  function duplicateLane(i: number): void {
    duplicateNamed(draft.value.lanes, i, MAX_LANES)
  }

  function removeLane(i: number): void {
    removeKeepingOne(draft.value.lanes, i)
  }

  /**
   * Switch lane i's scanner. A lane still named after its scanner ("KSM", "KSM-copy", "KSM-2",
   * as Add lane and Duplicate name them) is renamed after the new one; a name the user gave stays.
   */
  function setScannerKind(i: number, kind: ScannerKind): void {
    const lane = draft.value.lanes[i]
    if (!lane || lane.scanner.kind === kind) return
    const old = SCANNER_NAMES[lane.scanner.kind]
    lane.scanner = scannerOfKind(kind, lane.scanner)
    if (old && new RegExp(`^${old}(-copy)*(-\\d+)?$`).test(lane.name)) {
      lane.name = uniqueName(SCANNER_NAMES[kind] ?? kind, draft.value.lanes.filter((_, k) => k !== i).map((l) => l.name))
    }
  }

  /**
   * Scan rate as pages per second (at sleep_millisecs) or as pages_to_scan per wake-up; the
   * other form is derived from the current one so the rate does not change on the switch.
   */
  function setRateMode(i: number, mode: RateMode): void {
    const s = draft.value.lanes[i]?.scanner
    if (!s || rateMode(s) === mode) return
    const valid = Number.isFinite(s.sleep_millisecs) && s.sleep_millisecs > 0
    if (mode === 'pages_per_s') {
      s.pages_per_s = valid ? Math.round(nominalRate(s)) : 1000
    } else {
      if (valid && typeof s.pages_per_s === 'number' && s.pages_per_s > 0) s.pages_to_scan = pagesToScan(s)
      delete s.pages_per_s
    }
  }

  /** The session refused `cfg` with these issues (null: forget a refusal). */
  function setRefusal(r: { config: Experiment; issues: ConfigIssue[] } | null): void {
    refusal.value = r === null ? null : { key: JSON.stringify(r.config), issues: r.issues }
  }

  return {
    draft,
    file,
    setRefusal,
    preset,
    text,
    dirty,
    validation,
    issues,
    issuesByPath,
    unplacedIssues,
    config,
    docName,
    title,
    placeField,
    newDocument,
    loadPreset,
    loadOpened,
    adopt,
    open,
    openRecent,
    save,
    addVm,
    duplicateVm,
    removeVm,
    setWorkloadKind,
    addLane,
    duplicateLane,
    removeLane,
    setScannerKind,
    setRateMode,
    undo,
    redo,
    canUndo,
    canRedo,
    maxVms: MAX_VMS,
    maxLanes: MAX_LANES
  }
}

export type ExperimentStore = ReturnType<typeof createExperimentStore>
