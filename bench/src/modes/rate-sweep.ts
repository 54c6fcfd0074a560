import { connectFanout, type FanoutLoad, GENERATOR_SATURATED } from '../fanout.js'
import { cpuMeter } from '../process-stats.js'
import type { BenchTarget } from '../targets/bench-target.js'

export interface RateSweepOptions {
  rooms: number
  clientsPerRoom: number
  /** Of each step. */
  durationMs: number
  /** The highest per-client rate tried. */
  maxRate: number
  /** Halvings of the gap between the last passing and the first failing rate. */
  bisections?: number
  p99LimitMs?: number
  drainMs?: number
  onStep?: (step: SweepStep) => void
}

export interface SweepStep {
  ratePerClient: number
  passed: boolean
  deliveriesPerSecond: number
  p99: number
  loss: number
  errors: number
  /** The load generator's CPU, a fraction of one core, over the step (send and drain). */
  generatorCpu: number
  /** The same over the sending alone: above `GENERATOR_SATURATED`, the step measured it. */
  generatorSendingCpu: number
  /** CPU of the target's processes over the step, a fraction of one core. */
  targetCpu: number
  /** CPU of everything else on the machine, likewise: near 0 unless other work ran meanwhile. */
  otherCpu: number
}

export interface RateSweepResult {
  /** The highest per-client rate (messages/s) that passed; 0 if none did. */
  ratePerClient: number
  /** Measured at that rate. */
  deliveriesPerSecond: number
  p99: number
  /** The load generator's CPU at that rate, a fraction of one core (0 if none passed). */
  generatorCpu: number
  /** Everything else's on the machine at that rate, likewise. */
  otherCpu: number
  /**
   * The lowest rate tried at which the generator was saturated while sending: from there on,
   * a step's outcome is the generator's, not the target's.
   */
  generatorSaturatedAt?: number
  steps: SweepStep[]
}

/**
 * The highest per-client rate at which p99 latency stays under the limit with no loss and no
 * errors: doubling from 1 message/s until a step fails (or the cap is reached), then bisecting
 * between the last pass and the first failure.
 */
export async function rateSweep(
  target: BenchTarget,
  options: RateSweepOptions,
): Promise<RateSweepResult> {
  const limit = options.p99LimitMs ?? 100
  const tokens = await target.tokens(options.rooms * options.clientsPerRoom)
  const steps: SweepStep[] = []
  let load: FanoutLoad | undefined

  async function step(ratePerClient: number): Promise<SweepStep> {
    load ??= await connectFanout({ ...options, wsUrls: target.wsUrls, tokens })
    const meter = cpuMeter(() => target.cpuProcesses())
    meter.start()
    const result = await load.run({
      ratePerClient,
      durationMs: options.durationMs,
      drainMs: options.drainMs ?? 500,
    })
    const targetSeconds = meter.stop().total
    // A step in which nothing was sent proves nothing.
    const passed =
      result.sent > 0 && result.latency.p99 < limit && result.loss === 0 && result.errors === 0
    // An overloaded step can leave a backlog in the server or connections closed as slow
    // consumers: the next step starts from fresh connections rather than inherit either.
    if (!passed || !load.intact()) {
      await load.close()
      load = undefined
    }
    const outcome = {
      ratePerClient,
      passed,
      deliveriesPerSecond: result.deliveriesPerSecond,
      p99: result.latency.p99,
      loss: result.loss,
      errors: result.errors,
      generatorCpu: result.generatorCpu,
      generatorSendingCpu: result.generatorSendingCpu,
      targetCpu: targetSeconds / result.windowSeconds,
      otherCpu:
        Math.max(0, result.machineCpuSeconds - targetSeconds - result.generatorCpuSeconds) /
        result.windowSeconds,
    }
    steps.push(outcome)
    options.onStep?.(outcome)
    return outcome
  }

  try {
    let best: SweepStep | undefined
    let failedAt: number | undefined
    for (let rate = Math.min(1, options.maxRate); ; rate = Math.min(rate * 2, options.maxRate)) {
      const outcome = await step(rate)
      if (!outcome.passed) {
        failedAt = rate
        break
      }
      best = outcome
      if (rate >= options.maxRate) break
    }
    if (failedAt !== undefined) {
      for (let i = 0; i < (options.bisections ?? 2); i++) {
        const outcome = await step(((best?.ratePerClient ?? 0) + failedAt) / 2)
        if (outcome.passed) best = outcome
        else failedAt = outcome.ratePerClient
      }
    }
    return {
      ratePerClient: best?.ratePerClient ?? 0,
      deliveriesPerSecond: best?.deliveriesPerSecond ?? 0,
      p99: best?.p99 ?? 0,
      generatorCpu: best?.generatorCpu ?? 0,
      otherCpu: best?.otherCpu ?? 0,
      generatorSaturatedAt: steps
        .filter((step) => step.generatorSendingCpu > GENERATOR_SATURATED)
        .reduce<number | undefined>(
          (lowest, step) => Math.min(lowest ?? step.ratePerClient, step.ratePerClient),
          undefined,
        ),
      steps,
    }
  } finally {
    await load?.close()
  }
}
