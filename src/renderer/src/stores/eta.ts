/**
 * The estimated time left of a run, smoothed. The pace (simulated seconds per wall second)
 * changes as a run goes (lanes of different speed, workloads that finish, a scanner that goes to
 * sleep), so the ETA of the last few seconds alone swung by minutes. The pace here is an
 * exponentially weighted mean over wall time (time constant PACE_TAU_S), and the ETA shown moves
 * towards the new estimate at most ETA_STEP of its value per update, except when it is near.
 */

/** Wall seconds over which the pace is averaged (its weight falls to 1/e after this long). */
export const PACE_TAU_S = 8
/** Wall seconds of a run before there is an ETA. */
export const ETA_WARMUP_S = 1.5
/** Largest relative change of the shown ETA per progress update. */
const ETA_STEP = 0.15

export class EtaEstimator {
  private last: { wall: number; sim: number } | null = null
  private started = 0
  private pace: number | null = null
  private shown: number | null = null

  /** Forget the run (a new run, a pause: the pace of a paused run is not its pace). */
  reset(): void {
    this.last = null
    this.pace = null
    this.shown = null
  }

  /** A progress report: wall seconds of the run, simulated seconds reached. */
  add(wall: number, sim: number): void {
    const last = this.last
    if (last === null) {
      this.last = { wall, sim }
      this.started = wall
      return
    }
    const dw = wall - last.wall
    if (dw <= 0) return
    const rate = Math.max(0, (sim - last.sim) / dw)
    // Early on the mean over the whole run so far (weight dw / elapsed), then the moving mean.
    const w = Math.max(1 - Math.exp(-dw / PACE_TAU_S), dw / (wall - this.started))
    this.pace = this.pace === null ? rate : this.pace + w * (rate - this.pace)
    this.last = { wall, sim }
  }

  /** Wall seconds left to reach `duration`, or null before there is a pace to go by. */
  eta(duration: number): number | null {
    const last = this.last
    if (last === null || this.pace === null || this.pace <= 0 || last.wall - this.started < ETA_WARMUP_S) return null
    const target = Math.max(0, duration - last.sim) / this.pace
    const prev = this.shown
    if (prev === null || Math.abs(target - prev) < 2) this.shown = target
    else this.shown = prev + Math.max(-ETA_STEP * prev, Math.min(ETA_STEP * prev, target - prev))
    return this.shown
  }
}
