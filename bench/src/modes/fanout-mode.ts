import { connectFanout, type FanoutResult } from '../fanout.js'
import { cpuMeter, peakRssMiB, resetPeakRss } from '../process-stats.js'
import type { BenchTarget } from '../targets/bench-target.js'

export interface FanoutModeOptions {
  rooms: number
  clientsPerRoom: number
  ratePerClient: number
  durationMs: number
  drainMs?: number
}

export interface FanoutModeResult extends FanoutResult {
  /** CPU seconds of every process of the target (`cpuProcesses`), from the first send to the drain's end. */
  cpuSeconds: number
  /** The same, per process name (PostgreSQL's backends together under `postgres`). */
  cpuSecondsByProcess: Record<string, number>
  cpuMicrosPerDelivery: number
  /**
   * CPU seconds of everything else on the machine over the window: neither the target's nor the
   * generator's (other work on a shared machine, the kernel's own threads). Near 0 in a clean run.
   */
  otherCpuSeconds: number
  /** The largest peak resident set among the chat server processes during the run. */
  peakRssMiB: number
}

/** Fan-out at a fixed rate, with what it cost the target in CPU and memory. */
export async function fanoutMode(
  target: BenchTarget,
  options: FanoutModeOptions,
): Promise<FanoutModeResult> {
  const tokens = await target.tokens(options.rooms * options.clientsPerRoom)
  const load = await connectFanout({ ...options, wsUrls: target.wsUrls, tokens })
  try {
    // Connecting and joining are not what is measured: the meters start with the sending. The
    // generator's own CPU is read by `run` over the same window, from its first to its last
    // instruction, which the meter here brackets.
    for (const pid of target.serverPids) resetPeakRss(pid)
    const meter = cpuMeter(() => target.cpuProcesses())
    meter.start()
    const result = await load.run(options)
    const cpu = meter.stop()
    return {
      ...result,
      cpuSeconds: cpu.total,
      cpuSecondsByProcess: cpu.byProcess,
      cpuMicrosPerDelivery: (cpu.total * 1e6) / Math.max(1, result.deliveries),
      otherCpuSeconds: Math.max(
        0,
        result.machineCpuSeconds - cpu.total - result.generatorCpuSeconds,
      ),
      peakRssMiB: Math.max(...target.serverPids.map(peakRssMiB)),
    }
  } finally {
    await load.close()
  }
}
