import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

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

/** Peak resident set of a process, in MiB (VmHWM). */
export function peakRssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
    return kib / 1024
  } catch {
    return 0
  }
}

/** Every process of that exact name (Redis, PostgreSQL and its backends). */
export function pidsNamed(name: string): number[] {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

/** CPU seconds of a set of processes between `start()` and `stop()`. */
export function cpuMeter(pids: () => number[]) {
  let before = new Map<number, number>()
  return {
    start() {
      before = new Map(pids().map((pid) => [pid, cpuSeconds(pid)]))
    },
    stop(): number {
      return pids().reduce((total, pid) => total + cpuSeconds(pid) - (before.get(pid) ?? 0), 0)
    },
  }
}
