/**
 * Rules about the user's files that every host applies the same way (Electron's main process
 * and web mode): size limits, the names an export may use, what Save accepts as an experiment
 * document, and how a suggested name becomes a file name. Pure: no I/O.
 */
import { EXPERIMENT_SCHEMA_ID } from './config.ts'

/** File name ending of experiment configs. */
export const CONFIG_FILE_SUFFIX = '.samepage.json'
/** An experiment file is a few KiB; the CLI has the same limit. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024
/** A week at one sample per second for 8 lanes is about 4 GiB of JSON; allow half a GiB. */
export const MAX_RESULT_BYTES = 512 * 1024 * 1024

/** Extensions an exported file may have. */
export const EXPORT_EXTENSIONS = ['png', 'svg', 'pdf', 'csv', 'json', 'txt'] as const
const EXPORT_NAME = /^[A-Za-z0-9_][A-Za-z0-9 _.()+-]*\.(png|svg|pdf|csv|json|txt)$/
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/**
 * Why `name` may not be an export file name, or null: a plain name (no folder, no leading dot)
 * of at most 120 characters with a known extension, and not a name Windows reserves, so a file
 * exported on one system can be copied anywhere.
 */
export function exportNameProblem(name: string): string | null {
  if (name.length > 120 || !EXPORT_NAME.test(name)) return `"${name.slice(0, 120)}" is not a plain file name ending in .png, .svg, .pdf, .csv, .json or .txt`
  if (WINDOWS_RESERVED.test(name)) return `"${name}" is a name Windows reserves`
  return null
}

/** Whether a .png export holds PNG bytes (the signature). */
export function isPngData(data: Uint8Array | string): boolean {
  return typeof data !== 'string' && PNG_SIGNATURE.every((b, i) => data[i] === b)
}

const PDF_SIGNATURE = [0x25, 0x50, 0x44, 0x46, 0x2d] // "%PDF-"

/** Whether a .pdf export holds PDF bytes (the header). */
export function isPdfData(data: Uint8Array | string): boolean {
  return typeof data !== 'string' && PDF_SIGNATURE.every((b, i) => data[i] === b)
}

/** Whether a .svg export is SVG text (an <svg> root, after an optional XML declaration). */
export function isSvgData(data: Uint8Array | string): boolean {
  return typeof data === 'string' && /^\s*(<\?xml[^>]*\?>\s*)?<svg[\s>]/.test(data)
}

/** Why an export file's bytes do not match its extension (.png, .pdf, .svg), or null. */
export function exportDataProblem(name: string, data: Uint8Array | string): string | null {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase()
  if (ext === 'png' && !isPngData(data)) return `"${name}" does not hold PNG bytes`
  if (ext === 'pdf' && !isPdfData(data)) return `"${name}" does not hold PDF bytes`
  if (ext === 'svg' && !isSvgData(data)) return `"${name}" does not hold SVG text`
  return null
}

/**
 * Why `text` may not be saved as an experiment, or null. Save accepts an experiment document:
 * JSON, an object, with the experiment schema id. Field-level problems are allowed (a draft may
 * be saved and fixed later; opening it shows them); anything else is refused, so Save never
 * writes a file of another kind.
 */
export function experimentDocumentProblem(text: string): string | null {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    return `invalid JSON: ${(e as Error).message}`
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not a JSON object'
  const schema = (doc as { schema?: unknown }).schema
  return schema === EXPERIMENT_SCHEMA_ID ? null : `schema: expected "${EXPERIMENT_SCHEMA_ID}"`
}

/**
 * A name usable as a file name stem on every system: folders, control characters and
 * characters Windows refuses are replaced; empty becomes `fallback`.
 */
export function safeFileStem(name: string, fallback: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f<>:"/\\|?*]+/g, '-').replace(/^[.\s-]+|[.\s]+$/g, '').slice(0, 120)
  return cleaned === '' ? fallback : cleaned
}

/** A suggested file name made safe; one without `.json` gets `suffix` (`fig6b` → `fig6b.samepage.json`). */
export function fileNameWithSuffix(name: string, suffix: string, fallback: string): string {
  if (/\.json$/i.test(name)) {
    const stem = safeFileStem(name.slice(0, -'.json'.length), '')
    if (stem !== '') return `${stem}.json`
  }
  return safeFileStem(name, fallback) + suffix
}
