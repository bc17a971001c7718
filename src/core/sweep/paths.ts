/**
 * Field paths into an experiment document, as a sweep file writes them:
 * `duration_s`, `host.cores`, `vms[*].memory_mib`, `vms[0].workload.units`,
 * `lanes[KSM].scanner.pages_to_scan`. A bracket picks array elements: `[*]` every one, `[3]` by
 * index, `[KSM]` (or `["KSM isolated"]`) the element whose `name` is that. Pure.
 */

export type Selector = { all: true } | { index: number } | { name: string }

export interface PathStep {
  key: string
  /** Present when the step is `key[...]`: which elements of the array at `key`. */
  select?: Selector
}

/** A path as written, parsed, or the reason it cannot be one. */
export function parsePath(path: string): { ok: true; steps: PathStep[] } | { ok: false; message: string } {
  const steps: PathStep[] = []
  let i = 0
  if (path.length === 0) return { ok: false, message: 'an empty path' }
  while (i < path.length) {
    const key = /^[A-Za-z_][A-Za-z0-9_]*/.exec(path.slice(i))
    if (!key) return { ok: false, message: `expected a field name at character ${i + 1}` }
    i += key[0].length
    const step: PathStep = { key: key[0] }
    if (path[i] === '[') {
      const close = path.indexOf(']', i)
      if (close < 0) return { ok: false, message: `"[" at character ${i + 1} is not closed` }
      let inner = path.slice(i + 1, close).trim()
      if (/^".*"$/.test(inner) || /^'.*'$/.test(inner)) inner = inner.slice(1, -1)
      else if (inner === '*') step.select = { all: true }
      else if (/^\d+$/.test(inner)) step.select = { index: Number(inner) }
      if (step.select === undefined) {
        if (inner.length === 0) return { ok: false, message: `empty brackets at character ${i + 1}` }
        step.select = { name: inner }
      }
      i = close + 1
    }
    steps.push(step)
    if (i === path.length) break
    if (path[i] !== '.') return { ok: false, message: `expected "." or "[" at character ${i + 1}` }
    i++
    if (i === path.length) return { ok: false, message: 'ends with "."' }
  }
  return { ok: true, steps }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function describeSelector(s: Selector): string {
  return 'all' in s ? '[*]' : 'index' in s ? `[${s.index}]` : `[${s.name}]`
}

/**
 * Set the field at `path` in `doc` (mutated) to `value`: every element a `[*]` picks. Fails,
 * naming the first step that names nothing, when an intermediate field is missing, a bracket
 * picks no element or is put on a field that is not a list. The last field may be absent (an
 * optional field the schema will check); `exists` says whether every target already had it.
 */
export function setPath(doc: unknown, path: string, value: unknown): { ok: true; exists: boolean } | { ok: false; message: string } {
  const parsed = parsePath(path)
  if (!parsed.ok) return parsed
  let targets: unknown[] = [doc]
  let exists = true
  let sofar = ''
  const steps = parsed.steps
  for (let s = 0; s < steps.length; s++) {
    const { key, select } = steps[s]
    const last = s === steps.length - 1
    sofar += (sofar ? '.' : '') + key
    const next: unknown[] = []
    for (const t of targets) {
      if (!isObject(t)) return { ok: false, message: `"${sofar}" names nothing: its parent is not an object` }
      if (last && select === undefined) {
        if (!(key in t)) exists = false
        t[key] = structuredClone(value)
        continue
      }
      if (!(key in t)) return { ok: false, message: `"${sofar}" names nothing in the base experiment` }
      const v = t[key]
      if (select === undefined) {
        next.push(v)
        continue
      }
      if (!Array.isArray(v)) return { ok: false, message: `"${sofar}" is not a list, so ${describeSelector(select)} picks nothing` }
      const picked: number[] = []
      if ('all' in select) v.forEach((_, i) => picked.push(i))
      else if ('index' in select) {
        if (select.index < v.length) picked.push(select.index)
      } else v.forEach((e, i) => isObject(e) && e.name === select.name && picked.push(i))
      if (picked.length === 0) {
        const names = v.filter(isObject).map((e) => e.name).filter((n) => typeof n === 'string')
        const known = 'name' in select && names.length > 0 ? ` (names: ${names.join(', ')})` : 'index' in select ? ` (it has ${v.length})` : ''
        return { ok: false, message: `"${sofar}${describeSelector(select)}" names nothing in the base experiment${known}` }
      }
      if (last) {
        for (const i of picked) v[i] = structuredClone(value)
      } else for (const i of picked) next.push(v[i])
    }
    sofar += select ? describeSelector(select) : ''
    targets = next
  }
  return { ok: true, exists }
}

/** The value at `path` in `doc` (the first element a `[*]` picks), or undefined. */
export function getPath(doc: unknown, path: string): unknown {
  const parsed = parsePath(path)
  if (!parsed.ok) return undefined
  let cur: unknown = doc
  for (const { key, select } of parsed.steps) {
    if (!isObject(cur)) return undefined
    cur = cur[key]
    if (select === undefined) continue
    if (!Array.isArray(cur)) return undefined
    if ('all' in select) cur = cur[0]
    else if ('index' in select) cur = cur[select.index]
    else cur = cur.find((e) => isObject(e) && e.name === select.name)
  }
  return cur
}
