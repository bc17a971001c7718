/**
 * The application: the experiment, the run and the notices, and the actions that span them
 * (Run with the edited config, saved results, exports, menu actions and shortcuts). Created
 * once per app with the Platform it runs on and handed to components by provide/inject.
 */
import { computed, inject, ref, watch, type InjectionKey } from 'vue'
import { CHARTS, figureFileName, type ChartId, type ExportFormat } from '../../../core/analysis/charts.ts'
import { seriesCsv } from '../../../core/experiment/engine.ts'
import type { ExportFile, MenuAction, Platform } from '../platform/types.ts'
import { renderFigure } from '../composables/chartjs.ts'
import { createChartView } from './chartView.ts'
import { createExperimentStore, fileNameFor, formatIssue } from './experiment.ts'
import { createNotices } from './notices.ts'
import { parseResultText, resultText, type LoadedResult } from './resultFile.ts'
import { createRunStore } from './run.ts'
import { createTimelineStore } from './timeline.ts'

export const CHART_IDS = Object.keys(CHARTS) as ChartId[]

/** Two identical actions this close together are one (a menu accelerator and a keydown). */
const SAME_ACTION_MS = 250

export function createLab(platform: Platform) {
  const notices = createNotices()
  const experiment = createExperimentStore(platform, notices)
  const run = createRunStore(platform.client, notices)
  /** Zoom, crosshair, log axes and picked counters: what the charts show, and export. */
  const charts = createChartView()
  const timeline = createTimelineStore({ client: platform.client, summary: run.summary, runConfig: run.runConfig, onCursor: charts.onCursor })
  /** Short confirmation of the last file operation, for a status line. */
  const status = ref('')

  /** The editor is read-only while a run is going (running or paused). */
  const locked = computed(() => run.inProgress.value || run.pending.value)
  /** Why Run is disabled, or null when it is not. */
  const runBlocker = computed<string | null>(() => {
    const issues = experiment.issues.value
    if (issues.length > 0) {
      const first = formatIssue(issues[0])
      return issues.length === 1 ? `Fix the experiment to run it: ${first}` : `Fix ${issues.length} problems to run: ${first} (and ${issues.length - 1} more)`
    }
    return null
  })
  const canRun = computed(() => runBlocker.value === null && run.canStart.value)
  /** Whose results are on screen: the run's experiment name, or the saved result's label. */
  const resultsName = computed(() => (run.source.value === 'result' ? run.resultLabel.value : run.runConfig.value?.name ?? ''))
  /**
   * The results on screen are not those of the experiment in the editor: it was edited, or
   * another one was opened or picked, since they were made. The banner says so (and offers
   * Reset); Export still writes them, under their own name.
   */
  const resultsStale = computed(() => {
    if (run.inProgress.value || run.pending.value) return false
    const shown = run.runConfig.value
    if (shown === null || (!hasData.value && run.summary.value === null)) return false
    const now = experiment.config.value
    return now === null || canonicalJson(now) !== canonicalJson(shown)
  })
  const hasData = computed(() => {
    // The lanes are not reactive: these two say when to look again.
    void run.lanesVersion.value
    void run.frame.value
    return run.lanes().some((l) => l.length > 0)
  })

  // A config the session refused (it does not fit this machine) shows its problem at its field.
  watch(run.refusal, (r) => experiment.setRefusal(r))

  const stopTitle = watch(
    [experiment.title, experiment.dirty],
    ([title, dirty]) => platform.setTitle(title, dirty),
    { immediate: true }
  )

  function start(): void {
    const cfg = experiment.config.value
    if (cfg && canRun.value) run.run(cfg)
  }

  /** Space and the menu's Run/Pause: run, pause or resume, whichever applies. */
  function runOrPause(): void {
    if (run.state.value === 'running') run.pause()
    else if (run.state.value === 'paused') run.resume()
    else start()
  }

  function step(): void {
    run.step(experiment.config.value)
  }

  function refuseWhileRunning(what: string): boolean {
    if (!locked.value) return false
    notices.info(`Stop the run before you ${what}`)
    return true
  }

  /**
   * Whether the experiment may be replaced: not while a run is going, and after the platform
   * asked about unsaved changes (`ask` false when the host asked already, e.g. its menu).
   */
  async function mayReplace(what: string, ask: boolean): Promise<boolean> {
    if (refuseWhileRunning(what)) return false
    if (!ask || !experiment.dirty.value || !platform.confirmDiscard) return true
    return platform.confirmDiscard()
  }

  async function newDocument(ask = true): Promise<void> {
    if (await mayReplace('start a new experiment', ask)) experiment.newDocument()
  }

  async function loadPreset(name: string, ask = true): Promise<void> {
    if (await mayReplace('load a preset', ask)) experiment.loadPreset(name)
  }

  async function open(): Promise<void> {
    if (refuseWhileRunning('open another experiment')) return
    if (await experiment.open()) status.value = `Opened ${experiment.docName.value}`
  }

  async function openRecent(path: string): Promise<void> {
    if (refuseWhileRunning('open another experiment')) return
    await experiment.openRecent(path)
  }

  async function save(saveAs = false): Promise<void> {
    try {
      if (await experiment.save(saveAs)) status.value = `Saved ${experiment.docName.value}`
    } catch (e) {
      notices.error('Not saved', [e instanceof Error ? e.message : String(e)])
    }
  }

  async function readResult(): Promise<LoadedResult | null> {
    const f = await platform.openResult()
    if (!f) return null
    const r = f.issues && f.issues.length > 0 ? ({ ok: false, issues: f.issues } as const) : parseResultText(f.text, f.name)
    if (!r.ok) {
      notices.error(`Cannot open result ${f.name}`, r.issues.map((i) => `${i.path}: ${i.message}`))
      return null
    }
    return r.result
  }

  /** Show a saved result's charts and table, without re-running it; the editor is left alone. */
  async function openResult(): Promise<void> {
    if (refuseWhileRunning('open a result')) return
    const r = await readResult()
    if (!r) return
    run.showResult(r)
    status.value = `Showing result ${r.label}`
  }

  /** Put the config of the result on show in the editor (a new, unsaved experiment). */
  async function editShownConfig(): Promise<void> {
    const cfg = run.runConfig.value
    if (cfg && (await mayReplace('edit this experiment', true))) experiment.adopt(cfg)
  }

  /** Draw a saved result with the current run, for comparison. */
  async function overlayResult(): Promise<void> {
    const r = await readResult()
    if (!r) return
    run.setOverlay(r)
    status.value = `Comparing with ${r.label}`
  }

  const canSaveResult = computed(() => run.summary.value !== null && run.runConfig.value !== null)

  async function saveResult(): Promise<void> {
    const summary = run.summary.value
    const cfg = run.runConfig.value
    if (!summary || !cfg) return
    try {
      const saved = await platform.saveResult(resultText(cfg, summary, run.lanes()), fileNameFor(cfg.name, '.result.json'))
      if (saved) status.value = `Saved result ${saved.name}`
    } catch (e) {
      notices.error('Result not saved', [e instanceof Error ? e.message : String(e)])
    }
  }

  function exportFolder(): string {
    return fileNameFor(run.runConfig.value?.name ?? experiment.draft.value.name, '')
  }

  async function exportAll(files: ExportFile[]): Promise<void> {
    try {
      const of = resultsName.value ? ` (the results of “${resultsName.value}”${resultsStale.value ? ', not the edited experiment' : ''})` : ''
      if (await platform.exportFiles(files, exportFolder())) status.value = `Exported ${files.map((f) => f.name).join(', ')}${of}`
    } catch (e) {
      notices.error('Export failed', [e instanceof Error ? e.message : String(e)])
    }
  }

  /**
   * Each chart (or the ones given) as a figure file named after the experiment and the chart
   * (`paper-fig6b-sharing.svg`): the spec the chart shows (its zoom, log axis and counters),
   * 900 x 500 on white as the CLI draws it; PNG at 2x, SVG and PDF as vectors.
   */
  async function exportFigures(format: ExportFormat, ids: ChartId[] = CHART_IDS): Promise<void> {
    const lanes = run.chartLanes()
    const name = run.runConfig.value?.name ?? experiment.draft.value.name
    const files: ExportFile[] = []
    try {
      for (const id of ids) {
        const spec = CHARTS[id].build(lanes, charts.optsFor(id, { responsive: false }))
        files.push({ name: figureFileName(name, id, format), data: await renderFigure(spec, format, `${name}: ${CHARTS[id].title}`) })
      }
    } catch (e) {
      notices.error('Cannot draw the charts', [e instanceof Error ? e.message : String(e)])
      return
    }
    await exportAll(files)
  }

  const exportPng = (ids?: ChartId[]) => exportFigures('png', ids)

  function csvFile(): ExportFile {
    return { name: 'series.csv', data: seriesCsv([...run.lanes()]) }
  }

  function summaryFile(): ExportFile | null {
    const s = run.summary.value
    return s ? { name: 'summary.json', data: JSON.stringify(s, null, 2) + '\n' } : null
  }

  const exportCsv = () => exportAll([csvFile()])
  async function exportSummary(): Promise<void> {
    const f = summaryFile()
    if (f) await exportAll([f])
  }
  async function exportData(): Promise<void> {
    const s = summaryFile()
    await exportAll(s ? [csvFile(), s] : [csvFile()])
  }

  let lastAction = ''
  let lastAt = 0

  /** A menu action or shortcut; the same one twice within SAME_ACTION_MS counts once. */
  function dispatch(action: MenuAction): void {
    const key = typeof action === 'string' ? action : JSON.stringify(action)
    const now = performance.now()
    if (key === lastAction && now - lastAt < SAME_ACTION_MS) return
    lastAction = key
    lastAt = now
    if (typeof action === 'object') {
      // The host asked about unsaved changes before sending these.
      if ('preset' in action) void loadPreset(action.preset, false)
      else void openRecent(action.openRecent)
      return
    }
    switch (action) {
      case 'new':
        return void newDocument(false)
      case 'open':
        return void open()
      case 'save':
        return void save(false)
      case 'save-as':
        return void save(true)
      case 'open-result':
        return void openResult()
      case 'export-charts':
        return void exportPng()
      case 'export-data':
        return void exportData()
      case 'run-pause':
        return runOrPause()
      case 'step':
        return step()
      case 'stop':
        return run.stop()
    }
  }

  const offMenu = platform.onMenu(dispatch)

  return {
    platform,
    notices,
    experiment,
    run,
    charts,
    timeline,
    status,
    locked,
    runBlocker,
    canRun,
    hasData,
    resultsName,
    resultsStale,
    canSaveResult,
    start,
    runOrPause,
    step,
    newDocument,
    loadPreset,
    open,
    save,
    openResult,
    editShownConfig,
    overlayResult,
    saveResult,
    exportPng,
    exportFigures,
    exportCsv,
    exportSummary,
    exportData,
    dispatch,
    dispose(): void {
      offMenu()
      stopTitle()
      run.dispose()
      timeline.dispose()
    }
  }
}

/** JSON with object keys sorted: two configs compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v
  )
}

export type Lab = ReturnType<typeof createLab>

export const LAB_KEY: InjectionKey<Lab> = Symbol('samepage-lab')

/** The app's Lab, from any component under App. */
export function useLab(): Lab {
  const lab = inject(LAB_KEY)
  if (!lab) throw new Error('useLab() outside the app: provide LAB_KEY')
  return lab
}
