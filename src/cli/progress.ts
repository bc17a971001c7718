/** A one-line progress bar with ETA for a TTY stderr. */
export class ProgressBar {
  private last = -1

  constructor(
    private readonly write: (s: string) => void,
    private readonly label: string
  ) {}

  /** `simS`: simulated seconds done, for the simulated/wall rate (a run, not a batch). */
  update(fraction: number, elapsedS: number, simS?: number): void {
    const pct = Math.floor(fraction * 100)
    if (pct === this.last) return
    this.last = pct
    this.write(progressLine(this.label, fraction, elapsedS, simS))
  }

  finish(): void {
    this.write('\r' + ' '.repeat(this.label.length + 72) + '\r')
  }
}

/** The line: bar, percent, ETA, and with `simS` the rate ("120x": simulated s per wall s). */
export function progressLine(label: string, fraction: number, elapsedS: number, simS?: number): string {
  const pct = Math.floor(fraction * 100)
  const width = 30
  const filled = Math.round(fraction * width)
  const eta = fraction > 0 ? (elapsedS * (1 - fraction)) / fraction : 0
  const rate = simS !== undefined && elapsedS > 0 ? `  ${formatRate(simS / elapsedS)} sim/wall` : ''
  return `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}%  ETA ${eta.toFixed(0)} s${rate} `
}

function formatRate(r: number): string {
  return r >= 10 ? `${Math.round(r)}x` : `${r.toFixed(r >= 1 ? 1 : 3)}x`
}
