/** Number formats of the results table: fixed decimals, thousands separators, no locale surprises. */

const DASH = '—'

function fixed(x: number, digits: number): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** A sharing ratio: 0.412. */
export function formatRatio(x: number): string {
  return Number.isFinite(x) ? fixed(x, 3) : DASH
}

/** A count or MiB: 12,345 (or with `digits` decimals). */
export function formatCount(x: number, digits = 0): string {
  return Number.isFinite(x) ? fixed(x, digits) : DASH
}

/** A CPU percentage with three significant digits, as the paper's Table 1: 3.49, 0.274. */
export function formatPercent(x: number): string {
  if (!Number.isFinite(x)) return DASH
  if (x === 0) return '0'
  return x >= 100 ? fixed(x, 0) : Number(x.toPrecision(3)).toString()
}

/** A ratio to the first lane: 0.49x. */
export function formatTimes(x: number | null): string {
  return x === null || !Number.isFinite(x) ? DASH : `${fixed(x, 2)}x`
}

/** CPU per shared page, given in ns, shown in µs: 29.5 µs; a dash when nothing was shared. */
export function formatMicros(ns: number | null): string {
  if (ns === null || !Number.isFinite(ns)) return DASH
  const us = ns / 1000
  return `${us >= 100 ? fixed(us, 0) : Number(us.toPrecision(3)).toString()} µs`
}
