/**
 * When a sleeping kernel thread wakes: ksmd ends each batch with a sleep of
 * `msecs_to_jiffies(sleep_millisecs)` jiffies (ksm_scan_thread: schedule_timeout_interruptible in
 * Linux 3.0, wait_event_interruptible_timeout since), so its period is set by the timer wheel of
 * kernel/time/timer.c, not by the milliseconds asked for. Sources: docs/model.md ("Scan period").
 *
 * - `cascading` (before Linux 4.8): internal_add_timer() files a timer due within 256 jiffies in
 *   tv1 at `expires & TVR_MASK`; __run_timers() runs it at the tick where jiffies reaches
 *   `expires`, and later timers cascade down to the same exact jiffy. The sleep ends exactly
 *   `j` ticks after the jiffy in which it began.
 * - `non-cascading` (Linux 4.8+): calc_wheel_index() picks level n by the distance to expiry
 *   (delta < LVL_START(n + 1)) and calc_index() rounds the expiry up with the level's granularity,
 *   `((expires >> 3n) + 1) << 3n`, so that no timer fires early: at level 0 one jiffy more.
 *
 * Jiffies are whole ticks of 1/hz s; the thread finishes its batch at `end` seconds, in jiffy
 * floor(end x hz), and that jiffy is `clk` (the timer base is forwarded to jiffies on enqueue).
 */
export type TimerWheel = 'cascading' | 'non-cascading'

export interface KernelTimer {
  /** CONFIG_HZ: timer ticks per second. */
  hz: number
  timer_wheel: TimerWheel
}

/** kernel/time/timer.c: LVL_CLK_SHIFT (each level is 8 times coarser) and LVL_BITS (64 buckets). */
const LVL_CLK_SHIFT = 3
const LVL_BITS = 6
/** LVL_DEPTH: 9 levels for HZ > 100, else 8. */
const lvlDepth = (hz: number): number => (hz > 100 ? 9 : 8)
/** LVL_START(n) = (LVL_SIZE - 1) << ((n - 1) * LVL_CLK_SHIFT): first distance filed at level n. */
const lvlStart = (n: number): number => ((1 << LVL_BITS) - 1) * 2 ** ((n - 1) * LVL_CLK_SHIFT)

/** msecs_to_jiffies(): milliseconds rounded up to whole jiffies. */
export function msecsToJiffies(ms: number, hz: number): number {
  return Math.ceil((ms * hz) / 1000 - 1e-9)
}

/** The jiffy at which a timer armed at jiffy `clk` to expire at jiffy `expires` runs. */
export function timerRunsAt(expires: number, clk: number, t: KernelTimer): number {
  if (t.timer_wheel === 'cascading') return expires
  const delta = expires - clk
  let lvl = 0
  const depth = lvlDepth(t.hz)
  while (lvl < depth - 1 && delta >= lvlStart(lvl + 1)) lvl++
  const gran = 2 ** (lvl * LVL_CLK_SHIFT)
  return (Math.floor(expires / gran) + 1) * gran // calc_index(): (expires >> shift) + 1, << shift
}

/**
 * Simulated time (s) at which a thread that finished its work at `end` s and then slept
 * `sleepMs` ms (schedule_timeout(msecs_to_jiffies(sleepMs))) runs again. A sleep of 0 returns
 * at once (wait_event_*_timeout with a timeout of 0 does not sleep).
 */
export function wakeAfterSleep(end: number, sleepMs: number, t: KernelTimer): number {
  if (sleepMs <= 0) return end
  const clk = Math.floor(end * t.hz + 1e-6)
  return timerRunsAt(clk + msecsToJiffies(sleepMs, t.hz), clk, t) / t.hz
}
