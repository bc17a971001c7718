/**
 * What the kernel tells about itself outside sysfs: ksmd's pid and CPU time, CONFIG_HZ, the
 * release, the CPU, MemAvailable and the KSM copy-on-write count. The parsers are pure functions
 * of the files' text (unit-tested); the readers take the /proc and /boot roots as parameters.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { release } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'

/** utime + stime (fields 14 and 15) of a /proc/PID/stat line, in clock ticks. */
export function parseStatTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const utime = Number(rest[14 - 3])
  const stime = Number(rest[15 - 3])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`not a /proc/PID/stat line: ${stat.slice(0, 60)}`)
  return utime + stime
}

/** First field of /proc/PID/schedstat: time on the CPU, ns (CONFIG_SCHED_INFO). */
export function parseSchedstatNs(text: string): number {
  const v = Number(text.trim().split(/\s+/)[0])
  if (!Number.isFinite(v)) throw new Error('not a /proc/PID/schedstat line')
  return v
}

/** Second field of /proc/PID/schedstat: time spent runnable, waiting for a CPU, ns. */
export function parseSchedstatWaitNs(text: string): number {
  const v = Number(text.trim().split(/\s+/)[1])
  if (!Number.isFinite(v)) throw new Error('not a /proc/PID/schedstat line')
  return v
}

/** CONFIG_HZ from a kernel config's text, or null. */
export function parseConfigHz(config: string): number | null {
  const m = /^CONFIG_HZ=(\d+)$/m.exec(config)
  return m ? Number(m[1]) : null
}

/** A field of /proc/meminfo in bytes (the file gives kB), or null. */
export function parseMeminfo(text: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)
  return m ? Number(m[1]) * 1024 : null
}

/** A counter of /proc/vmstat, or null. */
export function parseVmstat(text: string, field: string): number | null {
  const m = new RegExp(`^${field} (\\d+)$`, 'm').exec(text)
  return m ? Number(m[1]) : null
}

export class ProcReader {
  constructor(
    readonly proc = '/proc',
    readonly boot = '/boot'
  ) {}

  /** pid of the ksmd kernel thread, or null. */
  ksmdPid(): number | null {
    for (const e of readdirSync(this.proc)) {
      if (!/^\d+$/.test(e)) continue
      try {
        if (readFileSync(join(this.proc, e, 'comm'), 'utf8').trim() === 'ksmd') return Number(e)
      } catch {
        // the process went away
      }
    }
    return null
  }

  /** ksmd's CPU: clock ticks (utime + stime) and, where schedstat exists, nanoseconds. */
  cpu(pid: number): { ticks: number; ns: number | null; waitNs: number | null } {
    const ticks = parseStatTicks(readFileSync(join(this.proc, String(pid), 'stat'), 'utf8'))
    try {
      const text = readFileSync(join(this.proc, String(pid), 'schedstat'), 'utf8')
      return { ticks, ns: parseSchedstatNs(text), waitNs: parseSchedstatWaitNs(text) }
    } catch {
      return { ticks, ns: null, waitNs: null }
    }
  }

  /** CONFIG_HZ from /proc/config.gz or /boot/config-RELEASE; null when neither is readable. */
  hz(): number | null {
    try {
      const gz = join(this.proc, 'config.gz')
      if (existsSync(gz)) return parseConfigHz(gunzipSync(readFileSync(gz)).toString('utf8'))
      const cfg = join(this.boot, `config-${release()}`)
      if (existsSync(cfg)) return parseConfigHz(readFileSync(cfg, 'utf8'))
    } catch {
      return null
    }
    return null
  }

  memAvailable(): number | null {
    try {
      return parseMeminfo(readFileSync(join(this.proc, 'meminfo'), 'utf8'), 'MemAvailable')
    } catch {
      return null
    }
  }

  /** Copy-on-write faults on KSM pages since boot (/proc/vmstat cow_ksm, Linux 6.4+), or null. */
  cowKsm(): number | null {
    try {
      return parseVmstat(readFileSync(join(this.proc, 'vmstat'), 'utf8'), 'cow_ksm')
    } catch {
      return null
    }
  }

  cpuModel(): string {
    try {
      const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync(join(this.proc, 'cpuinfo'), 'utf8'))
      return m ? m[1].trim() : 'unknown CPU'
    } catch {
      return 'unknown CPU'
    }
  }
}

/**
 * The timer wheel of a kernel release: the non-cascading wheel replaced the cascading one in
 * Linux 4.8 (kernel/time/timer.c, commit 500462a9de65 "timers: Switch to a non-cascading wheel").
 */
export function timerWheelOf(release: string): 'cascading' | 'non-cascading' {
  const m = /^(\d+)\.(\d+)/.exec(release)
  if (!m) return 'non-cascading'
  const [maj, min] = [Number(m[1]), Number(m[2])]
  return maj > 4 || (maj === 4 && min >= 8) ? 'non-cascading' : 'cascading'
}
