import { connectFanout, type FanoutLoad } from '../fanout.js'
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
}

export interface RateSweepResult {
  /** The highest per-client rate (messages/s) that passed; 0 if none did. */
  ratePerClient: number
  /** Measured at that rate. */
  deliveriesPerSecond: number
  p99: number
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
    const result = await load.run({
      ratePerClient,
      durationMs: options.durationMs,
      drainMs: options.drainMs ?? 500,
    })
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
      steps,
    }
  } finally {
    await load?.close()
  }
}
