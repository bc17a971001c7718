// The argument schemas of every renderer → main message (src/preload/api.ts), checked before a
// handler sees them. Limits are generous for real use and small enough that a hostile page
// cannot make main allocate without bound.
import { z } from 'zod'
import { exportDataProblem, exportNameProblem, MAX_CONFIG_BYTES, MAX_RESULT_BYTES } from '../core/experiment/files.ts'

export { MAX_CONFIG_BYTES, MAX_RESULT_BYTES }
/** Charts (six in up to three formats) and data of one run. */
export const MAX_EXPORT_FILES = 64
export const MAX_EXPORT_BYTES = 512 * 1024 * 1024
export const MAX_TITLE_CHARS = 300

/** An export file name (core/files.ts: plain name, known extension, not reserved). */
export const EXPORT_NAME = z.string().superRefine((name, ctx) => {
  const problem = exportNameProblem(name)
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem })
})

export const ExportFileSchema = z
  .object({ name: EXPORT_NAME, data: z.union([z.string(), z.instanceof(Uint8Array)]) })
  .superRefine((f, ctx) => {
    const problem = exportDataProblem(f.name, f.data)
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, path: ['data'] })
  })

export const ExportFilesSchema = z
  .array(ExportFileSchema)
  .min(1)
  .max(MAX_EXPORT_FILES)
  .refine((files) => new Set(files.map((f) => f.name.toLowerCase())).size === files.length, 'two files have the same name')
  .refine((files) => files.reduce((n, f) => n + (typeof f.data === 'string' ? f.data.length * 3 : f.data.byteLength), 0) <= MAX_EXPORT_BYTES, 'the files are too large')

/** A name the renderer suggests for a dialog: any text, cleaned by `safeFileStem` before use. */
export const SuggestedName = z.string().max(200)

export const SaveConfigOptionsSchema = z.strictObject({
  path: z.string().min(1).max(4096).optional(),
  suggestedName: SuggestedName,
  saveAs: z.boolean()
})

export const ConfigText = z.string().max(MAX_CONFIG_BYTES)
/** session:load's config: any JSON value, at most MAX_CONFIG_BYTES as JSON (as a file may be). */
export const LoadConfigArg = z.unknown().superRefine((v, ctx) => {
  let size: number
  try {
    size = JSON.stringify(v)?.length ?? 0
  } catch {
    ctx.addIssue({ code: 'custom', message: 'the experiment is not a JSON document' })
    return
  }
  if (size > MAX_CONFIG_BYTES) ctx.addIssue({ code: 'custom', message: `the experiment is larger than ${MAX_CONFIG_BYTES / 2 ** 20} MiB, the most a config may be` })
})
export const ResultText = z.string().max(MAX_RESULT_BYTES)
export const PathArg = z.string().min(1).max(4096)
export const TitleArg = z.string().max(MAX_TITLE_CHARS)
