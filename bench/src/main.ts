import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { type FanoutModeResult, fanoutMode } from './modes/fanout-mode.js'
import { type IdleResult, idleConnections } from './modes/idle-connections.js'
import { type JoinStormResult, joinStorm } from './modes/join-storm.js'
import { type RateSweepResult, rateSweep } from './modes/rate-sweep.js'
import { startBaseline } from './targets/baseline-target.js'
import { BENCH_ROOMS } from './targets/bench-rooms.js'
import type { BenchTarget } from './targets/bench-target.js'
import { startCluster } from './targets/cluster-target.js'
import { startStandalone } from './targets/standalone-target.js'

// `pnpm bench`: each target started once, in turn (the baseline first, since every other
// figure is also given as a ratio to its), the selected modes run on it `--runs` times (idle
// once), then one table per mode.

// The order modes run in, whatever the order asked for. Idle first, on servers that have not yet
// handled load: RSS does not shrink back, so memory freed by an earlier mode (or an earlier idle
// run) would hold new connections without RSS growing. The sweep last, since it overloads.
const MODES = ['idle', 'fanout', 'join', 'sweep'] as const
type Mode = (typeof MODES)[number]
const TARGETS = ['baseline', 'standalone', 'cluster'] as const
type TargetName = (typeof TARGETS)[number]

const { values } = parseArgs({
  // pnpm may hand over a '--' separator as a positional argument.
  allowPositionals: true,
  options: {
    mode: { type: 'string', default: MODES.join(',') },
    targets: { type: 'string' },
    rooms: { type: 'string', default: '10' },
    clients: { type: 'string', default: '50' },
    rate: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    'sweep-duration': { type: 'string', default: '5' },
    'sweep-max': { type: 'string', default: '128' },
    idle: { type: 'string', default: '5000' },
    joiners: { type: 'string', default: '20' },
    json: { type: 'string' },
    profile: { type: 'string' },
  },
})

function positive(flag: keyof typeof values, integer = false): number {
  const value = Number(values[flag])
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new Error(
      `--${flag} must be a positive ${integer ? 'integer' : 'number'}, not ${values[flag]}`,
    )
  }
  return value
}

function listFlag<T extends string>(
  flag: 'mode' | 'targets',
  allowed: readonly T[],
  given: string,
) {
  const chosen = given.split(',').map((name) => name.trim())
  const unknown = chosen.filter((name) => !allowed.includes(name as T))
  if (unknown.length > 0) {
    throw new Error(`--${flag}: unknown ${unknown.join(', ')} (choose from ${allowed.join(', ')})`)
  }
  return allowed.filter((name) => chosen.includes(name))
}

const { DATABASE_URL, REDIS_URL } = process.env
const settings = {
  modes: listFlag('mode', MODES, values.mode),
  targets: listFlag(
    'targets',
    TARGETS,
    // The baseline is always measured: the other figures are ratios to it.
    `baseline,${values.targets ?? (DATABASE_URL && REDIS_URL ? 'standalone,cluster' : 'standalone')}`,
  ),
  rooms: positive('rooms', true),
  clientsPerRoom: positive('clients', true),
  ratePerClient: positive('rate'),
  durationMs: positive('duration') * 1000,
  runs: positive('runs', true),
  sweepDurationMs: positive('sweep-duration') * 1000,
  sweepMaxRate: positive('sweep-max'),
  idleConnections: positive('idle', true),
  joiners: positive('joiners', true),
  // CPU profiles of the servers (not the baseline): one .cpuprofile per process, on its exit.
  serverNodeArgs: values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [],
}

if (settings.rooms > BENCH_ROOMS.length) {
  throw new Error(`--rooms: the targets have ${BENCH_ROOMS.length} rooms`)
}
const clusterOptions =
  DATABASE_URL && REDIS_URL ? { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL } : undefined
// Checked before anything runs rather than minutes later, when the cluster's turn comes.
if (settings.targets.includes('cluster') && !clusterOptions) {
  throw new Error('the cluster target needs DATABASE_URL and REDIS_URL')
}

function start(name: TargetName): Promise<BenchTarget> {
  if (name === 'baseline') return startBaseline()
  if (name === 'standalone') return startStandalone(settings.serverNodeArgs)
  return startCluster({
    ...(clusterOptions as { databaseUrl: string; redisUrl: string }),
    nodeArgs: settings.serverNodeArgs,
  })
}

interface ModeResults {
  fanout: FanoutModeResult
  sweep: RateSweepResult
  join: JoinStormResult
  idle: IdleResult
}

interface Column<R> {
  name: string
  pick(result: R): number
  digits: number
  /** Counts that should be zero (loss, errors) get no ratio. */
  ratio?: false
}

interface ModeSpec<R> {
  title: string
  runs: number
  users: number
  run(target: BenchTarget, log: (line: string) => void): Promise<R>
  summary(result: R): string
  columns: Column<R>[]
}

const fanoutSize = `${settings.rooms} rooms × ${settings.clientsPerRoom} clients`
const fanoutUsers = settings.rooms * settings.clientsPerRoom
const ms = (value: number) => `${value.toFixed(1)} ms`
const cpuBreakdown = (byProcess: Record<string, number>) =>
  Object.entries(byProcess)
    .map(([name, seconds]) => `${name} ${seconds.toFixed(2)}`)
    .join(', ')

const modes: { [M in Mode]: ModeSpec<ModeResults[M]> } = {
  fanout: {
    title: `fan-out: ${fanoutSize}, ${settings.ratePerClient} msg/s each, ${settings.durationMs / 1000} s (CPU of every server process, Redis and PostgreSQL included; peak RSS of the largest chat process during the run)`,
    runs: settings.runs,
    users: fanoutUsers,
    run: (target) => fanoutMode(target, settings),
    summary: (r) =>
      `${Math.round(r.deliveriesPerSecond)} deliveries/s, p99 ${ms(r.latency.p99)}, CPU s: ${cpuBreakdown(r.cpuSecondsByProcess)}`,
    columns: [
      { name: 'sent/s', pick: (r) => r.sentPerSecond, digits: 0 },
      { name: 'deliveries/s', pick: (r) => r.deliveriesPerSecond, digits: 0 },
      { name: 'p50 ms', pick: (r) => r.latency.p50, digits: 2 },
      { name: 'p95 ms', pick: (r) => r.latency.p95, digits: 2 },
      { name: 'p99 ms', pick: (r) => r.latency.p99, digits: 2 },
      { name: 'max ms', pick: (r) => r.latency.max, digits: 1 },
      { name: 'loss', pick: (r) => r.loss, digits: 0, ratio: false },
      { name: 'errors', pick: (r) => r.errors, digits: 0, ratio: false },
      { name: 'CPU µs/delivery', pick: (r) => r.cpuMicrosPerDelivery, digits: 2 },
      { name: 'peak RSS MiB', pick: (r) => r.peakRssMiB, digits: 0 },
    ],
  },
  sweep: {
    title: `rate sweep: highest msg/s per client with p99 < 100 ms, no loss, no errors (${fanoutSize}, ${settings.sweepDurationMs / 1000} s steps doubling from 1 msg/s up to ${settings.sweepMaxRate}, then 2 bisections)`,
    runs: settings.runs,
    users: fanoutUsers,
    run: (target, log) =>
      rateSweep(target, {
        ...settings,
        durationMs: settings.sweepDurationMs,
        maxRate: settings.sweepMaxRate,
        onStep: (s) =>
          log(
            `  ${s.ratePerClient} msg/s: ${s.passed ? 'pass' : 'fail'}, ${Math.round(s.deliveriesPerSecond)} deliveries/s, p99 ${ms(s.p99)}, loss ${s.loss}, errors ${s.errors}`,
          ),
      }),
    summary: (r) => `${r.ratePerClient} msg/s per client`,
    columns: [
      { name: 'msg/s per client', pick: (r) => r.ratePerClient, digits: 2 },
      { name: 'deliveries/s', pick: (r) => r.deliveriesPerSecond, digits: 0 },
      { name: 'p99 ms', pick: (r) => r.p99, digits: 2 },
    ],
  },
  join: {
    title: `join storm: ${settings.joiners} clients join a fan-out room (a 50-message history), then part, every 100 ms each, under fan-out of ${fanoutSize} at ${settings.ratePerClient} msg/s each, ${settings.durationMs / 1000} s (the baseline keeps no history)`,
    runs: settings.runs,
    users: fanoutUsers + settings.joiners,
    run: (target) => joinStorm(target, { ...settings, drainMs: 1000 }),
    summary: (r) => `${r.joins} joins, p99 ${ms(r.join.p99)}`,
    columns: [
      { name: 'joins', pick: (r) => r.joins, digits: 0 },
      { name: 'failed', pick: (r) => r.failedJoins, digits: 0, ratio: false },
      { name: 'join p50 ms', pick: (r) => r.join.p50, digits: 2 },
      { name: 'join p99 ms', pick: (r) => r.join.p99, digits: 2 },
      { name: 'join max ms', pick: (r) => r.join.max, digits: 1 },
      { name: 'history msgs', pick: (r) => r.fewestHistoryMessages, digits: 0, ratio: false },
      { name: 'fan-out deliveries/s', pick: (r) => r.fanout.deliveriesPerSecond, digits: 0 },
      { name: 'fan-out p99 ms', pick: (r) => r.fanout.latency.p99, digits: 2 },
      { name: 'fan-out loss', pick: (r) => r.fanout.loss, digits: 0, ratio: false },
    ],
  },
  idle: {
    title: `idle: ${settings.idleConnections} authenticated connections, each joined to one of 100 rooms (RSS and JavaScript heap summed over the chat processes, each read after a full garbage collection; measured once, before any other mode, since RSS does not shrink back after load)`,
    runs: 1,
    users: settings.idleConnections,
    run: (target) => idleConnections(target, { connections: settings.idleConnections }),
    summary: (r) =>
      `${r.kibPerConnection.toFixed(1)} KiB RSS, ${r.heapKibPerConnection.toFixed(2)} KiB heap per connection`,
    columns: [
      { name: 'RSS before MiB', pick: (r) => r.rssBeforeMiB, digits: 0 },
      { name: 'RSS after MiB', pick: (r) => r.rssAfterMiB, digits: 0 },
      { name: 'KiB/connection', pick: (r) => r.kibPerConnection, digits: 1 },
      { name: 'heap before MiB', pick: (r) => r.heapBeforeMiB, digits: 1 },
      { name: 'heap after MiB', pick: (r) => r.heapAfterMiB, digits: 1 },
      { name: 'heap KiB/connection', pick: (r) => r.heapKibPerConnection, digits: 2 },
    ],
  },
}

interface TargetResults {
  name: string
  runs: { [M in Mode]: ModeResults[M][] }
}

const benchStarted = Date.now()
function log(line: string) {
  const elapsed = Math.round((Date.now() - benchStarted) / 1000)
  process.stderr.write(`[${elapsed} s] ${line}\n`)
}

async function runMode<M extends Mode>(target: BenchTarget, mode: M, results: TargetResults) {
  const spec: ModeSpec<ModeResults[M]> = modes[mode]
  for (let run = 1; run <= spec.runs; run++) {
    log(`${target.name}: ${mode} run ${run}/${spec.runs}`)
    const result = await spec.run(target, log)
    results.runs[mode].push(result)
    log(`${target.name}: ${mode} run ${run}/${spec.runs}: ${spec.summary(result)}`)
  }
}

let current: Promise<BenchTarget> | undefined
// An interrupt stops the target too (once it has started, if it was starting): its processes
// would outlive this one, and the cluster's database and Redis keys are dropped on stop.
process.once('SIGINT', () => {
  log('interrupted, stopping the target')
  void (current?.then((target) => target.stop()) ?? Promise.resolve())
    .catch(() => {})
    .finally(() => process.exit(130))
})

/** Adds the target's results to `all` as they come, so that a failure leaves them standing. */
async function measure(name: TargetName, all: TargetResults[]): Promise<void> {
  log(`starting ${name}`)
  current = start(name)
  const target = await current
  const results: TargetResults = {
    name: target.name,
    runs: { fanout: [], sweep: [], join: [], idle: [] },
  }
  all.push(results)
  try {
    const users = Math.max(...settings.modes.map((mode) => modes[mode].users))
    log(`${target.name}: registering and logging in ${users} users`)
    await target.tokens(users)
    for (const mode of settings.modes) await runMode(target, mode, results)
  } finally {
    current = undefined
    await target.stop()
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length / 2
  return Number.isInteger(middle)
    ? ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
    : (sorted[Math.floor(middle)] as number)
}

function cell(values: number[], digits: number, baseline?: number[]): string {
  const value = median(values)
  const text = `${value.toFixed(digits)} [${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}]`
  if (!baseline) return text
  const base = median(baseline)
  return `${text} (${base === 0 ? '–' : `${(value / base).toFixed(2)}×`})`
}

function table<M extends Mode>(mode: M, results: TargetResults[]): string {
  const spec: ModeSpec<ModeResults[M]> = modes[mode]
  const measured = results.filter((target) => target.runs[mode].length > 0)
  const baseline = measured[0]
  const rows = measured.map((target) => [
    target.name,
    ...spec.columns.map((column) => {
      const of = (t: TargetResults) => t.runs[mode].map((result) => column.pick(result))
      const ratioTo = target === baseline || column.ratio === false ? undefined : baseline
      return cell(of(target), column.digits, ratioTo && of(ratioTo))
    }),
  ])
  const header = ['target', ...spec.columns.map((column) => column.name)]
  return [header, header.map(() => '---'), ...rows]
    .map((row) => `| ${row.join(' | ')} |`)
    .join('\n')
}

const results: TargetResults[] = []
try {
  for (const name of settings.targets) await measure(name, results)
} finally {
  if (values.json) {
    writeFileSync(values.json, `${JSON.stringify({ settings, results }, null, 2)}\n`)
    log(`raw results written to ${values.json}`)
  }
  process.stdout.write(
    "\nEach figure: median [min–max] over the runs; in parentheses, the median's ratio to the baseline's median.\n",
  )
  for (const mode of settings.modes) {
    const { title, runs } = modes[mode]
    process.stdout.write(`\n${title}; ${runs} run(s)\n\n${table(mode, results)}\n`)
  }
}
