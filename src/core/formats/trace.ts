/**
 * Guest memory traces (`samepage-lab/trace@1`, JSON Lines): measured guest activity, one event
 * per line, that the `trace` workload replays (workloads/trace.ts). Parsing is pure and strict:
 * every line is checked, and a bad one is reported with its line number and field. The parsed
 * trace is columns of typed arrays (no object per event). Format: docs/file-formats.md.
 *
 *   {"t": 0.25, "vm": "web1", "op": "write", "gfn": 4242, "fp": "9f3c0a1b22d4e5f6", "type": "anon"}
 *   {"t": 0.30, "vm": "web1", "op": "read-file", "path": "/usr/lib/libc.so.6", "offset": 8192, "type": "text"}
 */
import { PAGE_SIZE, ZERO_FP_HI, ZERO_FP_LO } from '../machine/content.ts'
import { PT_ANON, PT_KERNEL, PT_PAGECACHE, PT_TEXT } from '../machine/page-types.ts'
import { findJsonSyntaxError } from './json-error.ts'

export const TRACE_SCHEMA = 'samepage-lab/trace@1'

export const OP_ALLOC = 0
export const OP_WRITE = 1
export const OP_FREE = 2
export const OP_READ_FILE = 3
export const OP_WRITE_FILE = 4
export const TRACE_OPS = ['alloc', 'write', 'free', 'read-file', 'write-file'] as const

/** Page types a trace may name, and the guest's page type for each. */
export const TRACE_TYPES: Record<string, number> = { anon: PT_ANON, kernel: PT_KERNEL, 'page-cache': PT_PAGECACHE, text: PT_TEXT }

/** Largest gfn a trace may name (guest memory up to 8 TiB). */
export const MAX_TRACE_GFN = 2 ** 31 - 1

export class TraceFormatError extends Error {
  /** Where the problem is (line number, field name or ''), for a message that quotes nothing. */
  where: { line: number; field: string } | null = null
}

export interface Trace {
  /** VM names in order of first appearance; `vm` holds indices into it. */
  vms: string[]
  /** File paths in order of first appearance; `path` holds indices into it (-1: none). */
  paths: string[]
  length: number
  t: Float64Array
  vm: Int32Array
  op: Uint8Array
  /** Guest frame number as the traced guest numbered it, -1 when the line has none. */
  gfn: Int32Array
  /** Content fingerprint (xxhash64 of the page) halves; hasFp 0 when the line gave none. */
  fpHi: Uint32Array
  fpLo: Uint32Array
  hasFp: Uint8Array
  /** Guest page type (PT_*), the operation's default when the line gave none. */
  type: Uint8Array
  path: Int32Array
  /** Page index in the file (the line's byte offset / 4096). */
  offset: Int32Array
  /** The event's line number in the file (1-based), for messages. */
  line: Int32Array
}

/** Which fields each operation needs and allows. */
const FIELDS: Record<(typeof TRACE_OPS)[number], { need: string[]; allow: string[]; types: string[] }> = {
  alloc: { need: ['gfn'], allow: ['fp', 'type'], types: ['anon', 'kernel'] },
  write: { need: ['gfn', 'fp'], allow: ['type'], types: ['anon', 'kernel'] },
  free: { need: ['gfn'], allow: [], types: [] },
  'read-file': { need: ['path', 'offset'], allow: ['fp', 'type', 'gfn'], types: ['page-cache', 'text'] },
  'write-file': { need: ['path', 'offset'], allow: ['fp', 'gfn'], types: [] }
}
const COMMON = ['t', 'vm', 'op']

const HEX64 = /^[0-9a-fA-F]{16}$/

/**
 * Parses a trace; throws TraceFormatError naming the line and field of the first problem.
 * `name` prefixes messages (the file's name). Blank lines are skipped; times must not go back
 * within a VM.
 */
export function parseTrace(text: string, name = 'trace'): Trace {
  const b = new Builder()
  const vmIndex = new Map<string, number>()
  const pathIndex = new Map<string, number>()
  const lastT: number[] = []
  let sawSchema = false
  let lineNo = 0
  let start = 0
  while (start <= text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    lineNo++
    const line = text.slice(start, end).trim()
    start = end + 1
    if (line === '') continue
    const fail = (field: string, msg: string): never => {
      const e = new TraceFormatError(`${name} line ${lineNo}: ${field ? `${field}: ` : ''}${msg}`)
      e.where = { line: lineNo, field }
      throw e
    }
    let rec: Record<string, unknown>
    try {
      rec = JSON.parse(line) as Record<string, unknown>
    } catch {
      // Where, not what: JSON.parse's message would quote the line (a file's contents).
      const where = findJsonSyntaxError(line)
      return fail('', where ? `invalid JSON at column ${where.column}: ${where.message}` : 'invalid JSON')
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) fail('', 'expected a JSON object')
    if (rec.schema !== undefined) {
      // An optional first line naming the format: {"schema": "samepage-lab/trace@1"}.
      if (b.size > 0 || sawSchema) fail('schema', 'only the first line may name the schema')
      if (rec.schema !== TRACE_SCHEMA || Object.keys(rec).length !== 1) fail('schema', `expected {"schema": "${TRACE_SCHEMA}"} alone`)
      sawSchema = true
      continue
    }
    const op = rec.op
    if (typeof op !== 'string' || !(TRACE_OPS as readonly string[]).includes(op)) fail('op', `expected one of ${TRACE_OPS.join(', ')}, got ${kindOf(op)}`)
    const spec = FIELDS[op as (typeof TRACE_OPS)[number]]
    for (const k of Object.keys(rec)) {
      if (!COMMON.includes(k) && !spec.need.includes(k) && !spec.allow.includes(k)) fail(/^[A-Za-z_][\w-]{0,31}$/.test(k) ? k : 'a field', `not a field of "${op}" (fields: ${[...COMMON, ...spec.need, ...spec.allow].join(', ')})`)
    }
    for (const k of spec.need) if (rec[k] === undefined) fail(k, `required for "${op}"`)
    const t = rec.t
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) fail('t', `expected seconds >= 0, got ${kindOf(t)}`)
    const vm = rec.vm
    if (typeof vm !== 'string' || vm.length === 0 || vm.length > 64) fail('vm', 'expected a VM name (1 to 64 characters)')
    let vi = vmIndex.get(vm as string)
    if (vi === undefined) {
      vi = vmIndex.size
      vmIndex.set(vm as string, vi)
      lastT.push(0)
    }
    if ((t as number) < lastT[vi]) fail('t', `goes back in time (earlier than this VM's line before)`)
    lastT[vi] = t as number
    let gfn = -1
    if (rec.gfn !== undefined) {
      const g = rec.gfn
      if (typeof g !== 'number' || !Number.isInteger(g) || g < 0 || g > MAX_TRACE_GFN) fail('gfn', `expected an integer from 0 to ${MAX_TRACE_GFN}, got ${kindOf(g)}`)
      gfn = g as number
    }
    let hasFp = 0
    let hi = ZERO_FP_HI
    let lo = ZERO_FP_LO
    if (rec.fp !== undefined) {
      const fp = rec.fp
      if (typeof fp !== 'string' || !HEX64.test(fp)) fail('fp', `expected 16 hex digits (xxhash64 of the page), got ${kindOf(fp)}`)
      hi = parseInt((fp as string).slice(0, 8), 16) >>> 0
      lo = parseInt((fp as string).slice(8), 16) >>> 0
      hasFp = 1
    }
    let type = op === 'read-file' ? PT_PAGECACHE : op === 'write-file' ? PT_PAGECACHE : PT_ANON
    if (rec.type !== undefined) {
      if (typeof rec.type !== 'string' || !spec.types.includes(rec.type)) fail('type', `expected one of ${spec.types.join(', ')} for "${op}", got ${kindOf(rec.type)}`)
      type = TRACE_TYPES[rec.type as string]
    }
    let path = -1
    let offset = 0
    if (spec.need.includes('path')) {
      const p = rec.path
      if (typeof p !== 'string' || !p.startsWith('/') || p.length > 4096 || p.includes('\0')) fail('path', 'expected an absolute path ("/etc/hosts")')
      let pi = pathIndex.get(p as string)
      if (pi === undefined) {
        pi = pathIndex.size
        pathIndex.set(p as string, pi)
      }
      path = pi
      const off = rec.offset
      if (typeof off !== 'number' || !Number.isInteger(off) || off < 0 || off % PAGE_SIZE !== 0 || off / PAGE_SIZE > MAX_TRACE_GFN) {
        fail('offset', `expected a byte offset that is a multiple of ${PAGE_SIZE}, got ${kindOf(off)}`)
      }
      offset = (off as number) / PAGE_SIZE
    }
    b.push(t as number, vi, TRACE_OPS.indexOf(op as (typeof TRACE_OPS)[number]), gfn, hi, lo, hasFp, type, path, offset, lineNo)
  }
  return b.finish([...vmIndex.keys()], [...pathIndex.keys()])
}

/**
 * What a bad value is, without showing it: messages name the file, line and field, never the
 * file's bytes (a trace `file` pointing at /etc/passwd must not print its lines).
 */
function kindOf(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (v === null) return 'null'
  if (typeof v === 'number' && !Number.isFinite(v)) return 'a number too large to hold'
  if (typeof v === 'number') return Number.isInteger(v) ? (v < 0 ? 'a negative integer' : 'an integer out of range') : 'a number that is not an integer'
  if (typeof v === 'string') return `a string of ${v.length} characters`
  if (typeof v === 'boolean') return 'true or false'
  if (Array.isArray(v)) return 'a list'
  return 'an object'
}

/** Growable columns. */
class Builder {
  private cap = 1024
  private n = 0
  get size(): number {
    return this.n
  }
  private t = new Float64Array(this.cap)
  private vm = new Int32Array(this.cap)
  private op = new Uint8Array(this.cap)
  private gfn = new Int32Array(this.cap)
  private fpHi = new Uint32Array(this.cap)
  private fpLo = new Uint32Array(this.cap)
  private hasFp = new Uint8Array(this.cap)
  private type = new Uint8Array(this.cap)
  private path = new Int32Array(this.cap)
  private offset = new Int32Array(this.cap)
  private line = new Int32Array(this.cap)

  push(t: number, vm: number, op: number, gfn: number, hi: number, lo: number, hasFp: number, type: number, path: number, offset: number, line: number): void {
    if (this.n === this.cap) this.grow()
    const i = this.n++
    this.t[i] = t
    this.vm[i] = vm
    this.op[i] = op
    this.gfn[i] = gfn
    this.fpHi[i] = hi
    this.fpLo[i] = lo
    this.hasFp[i] = hasFp
    this.type[i] = type
    this.path[i] = path
    this.offset[i] = offset
    this.line[i] = line
  }

  private grow(): void {
    this.cap *= 2
    const g = <T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(a: T, b: T): T => {
      b.set(a)
      return b
    }
    this.t = g(this.t, new Float64Array(this.cap))
    this.vm = g(this.vm, new Int32Array(this.cap))
    this.op = g(this.op, new Uint8Array(this.cap))
    this.gfn = g(this.gfn, new Int32Array(this.cap))
    this.fpHi = g(this.fpHi, new Uint32Array(this.cap))
    this.fpLo = g(this.fpLo, new Uint32Array(this.cap))
    this.hasFp = g(this.hasFp, new Uint8Array(this.cap))
    this.type = g(this.type, new Uint8Array(this.cap))
    this.path = g(this.path, new Int32Array(this.cap))
    this.offset = g(this.offset, new Int32Array(this.cap))
    this.line = g(this.line, new Int32Array(this.cap))
  }

  finish(vms: string[], paths: string[]): Trace {
    const n = this.n
    return {
      vms,
      paths,
      length: n,
      t: this.t.slice(0, n),
      vm: this.vm.slice(0, n),
      op: this.op.slice(0, n),
      gfn: this.gfn.slice(0, n),
      fpHi: this.fpHi.slice(0, n),
      fpLo: this.fpLo.slice(0, n),
      hasFp: this.hasFp.slice(0, n),
      type: this.type.slice(0, n),
      path: this.path.slice(0, n),
      offset: this.offset.slice(0, n),
      line: this.line.slice(0, n)
    }
  }
}

export interface TraceVmStats {
  events: number
  /** The highest gfn the VM's lines name (-1: none). */
  maxGfn: number
}

/** Per VM name of the trace: its events and the highest gfn it names. */
export function traceVmStats(trace: Trace): Map<string, TraceVmStats> {
  const out = new Map<string, TraceVmStats>()
  for (const v of trace.vms) out.set(v, { events: 0, maxGfn: -1 })
  for (let i = 0; i < trace.length; i++) {
    const s = out.get(trace.vms[trace.vm[i]]) as TraceVmStats
    s.events++
    if (trace.gfn[i] > s.maxGfn) s.maxGfn = trace.gfn[i]
  }
  return out
}

/** The first of VM `vm`'s events naming a gfn >= `pages`, or -1. */
export function firstGfnPast(trace: Trace, vm: string, pages: number): number {
  const vi = trace.vms.indexOf(vm)
  for (let i = 0; i < trace.length; i++) if (trace.vm[i] === vi && trace.gfn[i] >= pages) return i
  return -1
}
