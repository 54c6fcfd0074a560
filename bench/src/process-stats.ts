import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'

const TICKS_PER_SECOND = 100

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return 0
  }
}

/**
 * CPU seconds every core of the machine has spent busy since boot (user, nice, system, irq,
 * softirq, steal), from /proc/stat: over a window, minus what the measured processes used, it
 * says how much else ran meanwhile (other work on a shared machine blurs every figure).
 */
export function machineBusySeconds(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]?.split(/\s+/) ?? []
    // cpu user nice system idle iowait irq softirq steal …
    const busy = [1, 2, 3, 6, 7, 8].reduce((total, index) => total + Number(fields[index] ?? 0), 0)
    return busy / TICKS_PER_SECOND
  } catch {
    return 0
  }
}

/** Peak resident set of a process, in MiB (VmHWM). */
export function peakRssMiB(pid: number): number {
  return statusMiB(pid, 'VmHWM')
}

/** Restarts a process's peak resident set from its current one, so that the next reading of it
 * covers only what happens from now on. */
export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
  } catch {
    // Gone already, or a kernel without it: the peak then counts from the process's start.
  }
}

/** Current resident set of a process, in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  return statusMiB(pid, 'VmRSS')
}

function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
    return kib / 1024
  } catch {
    return 0
  }
}

/** Every process of that exact name (Redis, PostgreSQL and its backends). */
export function processesNamed(name: string): NamedProcess[] {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((pid) => ({ name, pid: Number(pid) }))
  } catch {
    return []
  }
}

/** A process whose CPU counts, under the name it is reported by (several may share one). */
export interface NamedProcess {
  name: string
  pid: number
}

export interface CpuReading {
  total: number
  /** CPU seconds summed per process name, e.g. every `postgres` backend under one. */
  byProcess: Record<string, number>
}

/** CPU seconds of a set of processes between `start()` and `stop()`. */
export function cpuMeter(processes: () => NamedProcess[]) {
  let before = new Map<number, number>()
  return {
    start() {
      before = new Map(processes().map(({ pid }) => [pid, cpuSeconds(pid)]))
    },
    stop(): CpuReading {
      const byProcess: Record<string, number> = {}
      let total = 0
      for (const { name, pid } of processes()) {
        const used = cpuSeconds(pid) - (before.get(pid) ?? 0)
        byProcess[name] = (byProcess[name] ?? 0) + used
        total += used
      }
      return { total, byProcess }
    },
  }
}
