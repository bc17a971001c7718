/**
 * The Platform in a plain browser (web mode): the session runs in a Web Worker
 * (src/host/web-worker.ts, the same Session as Electron's worker thread); files are opened
 * with a file picker and saved as downloads; an export is one download per file. There is no
 * application menu (the screens' own shortcuts apply), so onMenu never fires.
 *
 * The same checks as Electron's main process apply before anything is written: a saved config
 * must be an experiment document, a saved result must validate, export names must be plain
 * file names; files read are validated and come back with their issues.
 */
import { parseExperimentText, type ConfigIssue } from '../../../core/experiment/config.ts'
import { CONFIG_FILE_SUFFIX, experimentDocumentProblem, exportNameProblem, fileNameWithSuffix, exportDataProblem, MAX_CONFIG_BYTES, MAX_RESULT_BYTES } from '../../../core/experiment/files.ts'
import { parseResultText, RESULT_FILE_SUFFIX } from '../../../core/experiment/result.ts'
import type { ExportFile, OpenedFile, Platform, SavedFile } from './types.ts'
import { WorkerLabClient, webWorkerChannel } from './worker-client.ts'
import { ParallelLabClient } from '../../../core/experiment/parallel.ts'
import type { MemoryBudget } from '../../../core/experiment/estimate.ts'

/** Browsers drop some of several downloads started in one go; space them out. */
const EXPORT_SPACING_MS = 150
/** Keep a download's blob URL alive long enough for the browser to fetch it. */
const REVOKE_AFTER_MS = 60_000

const MIME: Record<string, string> = {
  png: 'image/png',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  csv: 'text/csv',
  json: 'application/json',
  txt: 'text/plain'
}

/** The app's Web Worker: Vite bundles the entry as a module worker next to the page. */
export function startSessionWorker(): Worker {
  return new Worker(new URL('../../../host/web-worker.ts', import.meta.url), { type: 'module', name: 'samepage-session' })
}

/** Let the user pick one file; null if the picker was cancelled. */
export function pickFile(accept: string): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input')
    input.type = 'file'
    input.accept = accept
    input.style.display = 'none'
    let settled = false
    const done = (file: File | null) => {
      if (settled) return
      settled = true
      input.remove()
      resolve(file)
    }
    input.addEventListener('change', () => done(input.files?.[0] ?? null))
    input.addEventListener('cancel', () => done(null))
    document.body.append(input)
    input.click()
  })
}

/** Offer `data` as a download named `name`. */
export function download(name: string, data: string | Uint8Array, type: string): void {
  // A copy gives the Blob an ArrayBuffer-backed view whatever `data` views.
  const blob = new Blob([typeof data === 'string' ? data : new Uint8Array(data)], { type })
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.rel = 'noopener'
  a.style.display = 'none'
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS)
}

async function readPicked(file: File, maxBytes: number, validate: (text: string) => ConfigIssue[]): Promise<OpenedFile> {
  if (file.size > maxBytes) {
    return { name: file.name, text: '', issues: [{ path: '(root)', message: `"${file.name}" is ${Math.round(file.size / 2 ** 20)} MiB; at most ${maxBytes / 2 ** 20} MiB can be opened` }] }
  }
  const text = await file.text()
  const issues = validate(text)
  return issues.length === 0 ? { name: file.name, text } : { name: file.name, text, issues }
}

function configIssues(text: string): ConfigIssue[] {
  const r = parseExperimentText(text)
  return r.ok ? [] : r.issues
}

function resultIssues(text: string): ConfigIssue[] {
  const r = parseResultText(text)
  return r.ok ? [] : r.issues
}

function checkExportFiles(files: ExportFile[]): void {
  const seen = new Set<string>()
  for (const f of files) {
    const problem = exportNameProblem(f.name)
    if (problem !== null) throw new Error(`export: ${problem}`)
    const bad = exportDataProblem(f.name, f.data)
    if (bad !== null) throw new Error(`export: ${bad}`)
    if (seen.has(f.name.toLowerCase())) throw new Error(`export: two files are named "${f.name}"`)
    seen.add(f.name.toLowerCase())
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export interface WebPlatformOptions {
  /** Makes a session worker, one per lane (tests may pass their own). */
  worker?: () => Worker
}

/**
 * What a run may use in this browser, for the check before a run (src/core/experiment/estimate.ts): three
 * quarters of the memory the browser reports (`navigator.deviceMemory`, Chromium: GiB rounded
 * down to a power of two and at most 8, so a larger machine counts as 8 GiB), and half the
 * page's JavaScript heap limit for the series (`performance.memory`, Chromium; else 2 GiB). The
 * lanes' Web Workers live in the page's process. Null where the browser does not say
 * (Firefox, Safari): runs are then not checked.
 */
export function browserMemoryBudget(): MemoryBudget | null {
  const gib = (navigator as Navigator & { deviceMemory?: number }).deviceMemory
  if (typeof gib !== 'number' || !(gib > 0)) return null
  const heap = (performance as Performance & { memory?: { jsHeapSizeLimit?: number } }).memory?.jsHeapSizeLimit
  return { machineBytes: gib * 2 ** 30 * 0.75, heapBytes: typeof heap === 'number' && heap > 0 ? heap * 0.5 : 2 ** 31, holder: 'this browser' }
}

export function createWebPlatform(options: WebPlatformOptions = {}): Platform {
  const spawn = options.worker ?? startSessionWorker
  // One Web Worker per lane (src/core/experiment/parallel.ts), as `samepage run` runs lanes on threads.
  const client = new ParallelLabClient(() => new WorkerLabClient(webWorkerChannel(spawn())), { memoryBudget: browserMemoryBudget })
  let dirty = false

  // Leaving the page with unsaved changes asks first (the browser words the question).
  window.addEventListener('beforeunload', (e) => {
    if (dirty) e.preventDefault()
  })

  const confirmDiscard = async (): Promise<boolean> => !dirty || window.confirm('Discard the unsaved changes to this experiment?')

  return {
    kind: 'web',
    client,
    async openConfig(): Promise<OpenedFile | null> {
      if (!(await confirmDiscard())) return null
      const file = await pickFile(`${CONFIG_FILE_SUFFIX},.json,application/json`)
      return file === null ? null : readPicked(file, MAX_CONFIG_BYTES, configIssues)
    },
    async saveConfig(text, opts): Promise<SavedFile | null> {
      const problem = experimentDocumentProblem(text)
      if (problem !== null) throw new Error(`not saved: not an experiment document: ${problem}`)
      const name = fileNameWithSuffix(opts.suggestedName, CONFIG_FILE_SUFFIX, 'experiment')
      download(name, text, MIME.json)
      return { name }
    },
    async openResult(): Promise<OpenedFile | null> {
      const file = await pickFile('.json,application/json')
      return file === null ? null : readPicked(file, MAX_RESULT_BYTES, resultIssues)
    },
    async saveResult(text, suggestedName): Promise<SavedFile | null> {
      const r = parseResultText(text)
      if (!r.ok) throw new Error(`not saved: the result is invalid: ${r.issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ')}`)
      const name = fileNameWithSuffix(suggestedName, RESULT_FILE_SUFFIX, 'result')
      download(name, text, MIME.json)
      return { name }
    },
    async exportFiles(files): Promise<boolean> {
      checkExportFiles(files)
      for (const [i, f] of files.entries()) {
        if (i > 0) await delay(EXPORT_SPACING_MS)
        download(f.name, f.data, MIME[f.name.slice(f.name.lastIndexOf('.') + 1)] ?? 'application/octet-stream')
      }
      return true
    },
    setTitle(title, isDirty): void {
      document.title = title.trim() === '' ? 'Samepage Lab' : title
      dirty = isDirty
    },
    onMenu: () => () => undefined,
    confirmDiscard
  }
}
