/** A one-line progress bar with ETA for a TTY stderr. */
export class ProgressBar {
  private last = -1

  constructor(
    private readonly write: (s: string) => void,
    private readonly label: string
  ) {}

  update(fraction: number, elapsedS: number): void {
    const pct = Math.floor(fraction * 100)
    if (pct === this.last) return
    this.last = pct
    const width = 30
    const filled = Math.round(fraction * width)
    const eta = fraction > 0 ? (elapsedS * (1 - fraction)) / fraction : 0
    this.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}%  ETA ${eta.toFixed(0)} s `)
  }

  finish(): void {
    this.write('\r' + ' '.repeat(this.label.length + 56) + '\r')
  }
}
