import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { GENERATOR_SATURATED } from './fanout.js'
import { type FanoutModeResult, fanoutMode } from './modes/fanout-mode.js'
import { type IdleResult, idleConnections } from './modes/idle-connections.js'
import { type JoinStormResult, joinStorm } from './modes/join-storm.js'
import { type RateSweepResult, rateSweep } from './modes/rate-sweep.js'
import { startBaseline } from './targets/baseline-target.js'
import { BENCH_ROOMS } from './targets/bench-rooms.js'
import type { BenchTarget } from './targets/bench-target.js'
import { builtService } from './targets/built-service.js'
import { type ClusterPath, haproxyAvailable, startCluster } from './targets/cluster-target.js'
import { startStandalone } from './targets/standalone-target.js'

// `pnpm bench`: each target started once, in turn (the baseline first, since every other
// figure is also given as a ratio to its), the selected modes run on it `--runs` times (idle
// once), then one table per mode. The cluster's paths (direct, through the edge, through the
// gateway) are targets of their own over one start of the cluster, measured mode by mode in
// turn, so that they are compared within minutes of each other.

// The order modes run in, whatever the order asked for. Idle first, on servers that have not yet
// handled load: RSS does not shrink back, so memory freed by an earlier mode (or an earlier idle
// run) would hold new connections without RSS growing. The sweep last, since it overloads.
const MODES = ['idle', 'fanout', 'join', 'sweep'] as const
type Mode = (typeof MODES)[number]
const TARGETS = ['baseline', 'standalone', 'cluster', 'cluster-edge', 'cluster-gateway'] as const
type TargetName = (typeof TARGETS)[number]
const CLUSTER_PATHS: { [name: string]: ClusterPath } = {
  cluster: 'direct',
  'cluster-edge': 'edge',
  'cluster-gateway': 'gateway',
}

const { values } = parseArgs({
  // `pnpm --filter @finchat/bench bench -- --flag` hands over the '--' separator, after which
  // parseArgs would take every flag for a positional and run the defaults: it is dropped.
  args: process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === '--')),
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
// Without haproxy the default leaves the edge out (saying so) rather than fail; asked for by
// name, it fails before anything starts.
const edgeByDefault = haproxyAvailable()
if (!values.targets && DATABASE_URL && REDIS_URL && !edgeByDefault) {
  process.stderr.write('haproxy not found: the default targets leave out cluster-edge\n')
}
const defaultTargets =
  DATABASE_URL && REDIS_URL
    ? `standalone,cluster,${edgeByDefault ? 'cluster-edge,' : ''}cluster-gateway`
    : 'standalone'
const settings = {
  modes: listFlag('mode', MODES, values.mode),
  targets: listFlag(
    'targets',
    TARGETS,
    // The baseline is always measured: the other figures are ratios to it.
    `baseline,${values.targets ?? defaultTargets}`,
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
const clusterPaths = settings.targets.flatMap((name) => CLUSTER_PATHS[name] ?? [])
if (clusterPaths.length > 0 && !clusterOptions) {
  throw new Error('the cluster targets need DATABASE_URL and REDIS_URL')
}
if (clusterPaths.includes('edge') && !haproxyAvailable()) {
  throw new Error(
    'the cluster-edge target needs haproxy (apt-get install haproxy, or HAPROXY_PATH)',
  )
}
// The builds too: a stale one would otherwise stop the run after the baseline's minutes.
if (settings.targets.includes('standalone')) builtService('standalone')
if (clusterPaths.length > 0) {
  for (const service of [
    'auth',
    'chat',
    ...(clusterPaths.some((p) => p !== 'direct') ? ['gateway'] : []),
  ]) {
    builtService(service)
  }
}

/** What is started at once: one target, or the cluster's paths over one set of processes. */
const startGroups: TargetName[][] = [
  ...settings.targets.filter((name) => !CLUSTER_PATHS[name]).map((name) => [name]),
  ...(clusterPaths.length > 0 ? [settings.targets.filter((name) => CLUSTER_PATHS[name])] : []),
]

async function start(group: TargetName[]): Promise<BenchTarget[]> {
  const [first] = group
  if (first === 'baseline') return [await startBaseline()]
  if (first === 'standalone') return [await startStandalone(settings.serverNodeArgs)]
  return startCluster({
    ...(clusterOptions as { databaseUrl: string; redisUrl: string }),
    nodeArgs: settings.serverNodeArgs,
    paths: group.map((name) => CLUSTER_PATHS[name] as ClusterPath),
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
  /** Undefined where the figure does not apply (shown as –). */
  pick(result: R): number | undefined
  digits: number
  /** Counts that should be zero (loss, errors), and the generator's CPU, get no ratio. */
  ratio?: false
}

interface RunContext {
  log(line: string): void
  /** Another target over the same processes ran this mode before (the cluster's paths). */
  serversUsedBefore: boolean
}

interface ModeSpec<R> {
  title: string
  runs: number
  users: number
  run(target: BenchTarget, context: RunContext): Promise<R>
  summary(result: R): string
  /** Why a run's figures are not the target's, if they are not (a saturated generator). */
  warning(result: R): string | undefined
  columns: Column<R>[]
}

const fanoutSize = `${settings.rooms} rooms × ${settings.clientsPerRoom} clients`
const fanoutUsers = settings.rooms * settings.clientsPerRoom
const ms = (value: number) => `${value.toFixed(1)} ms`
const cpuBreakdown = (byProcess: Record<string, number>) =>
  Object.entries(byProcess)
    .map(([name, seconds]) => `${name} ${seconds.toFixed(2)}`)
    .join(', ')
const percent = (share: number) => `${Math.round(share * 100)} %`
const generatorColumn = <R>(share: (result: R) => number): Column<R> => ({
  name: 'generator CPU %',
  pick: (r) => share(r) * 100,
  digits: 0,
  ratio: false,
})
/** A figure of the chat processes: none for a path measured after another over the same ones. */
const chatsColumn = (
  name: string,
  value: (result: IdleResult) => number,
  digits: number,
): Column<IdleResult> => ({
  name,
  pick: (r) => (r.chatsReused ? undefined : value(r)),
  digits,
})
/** The generator's CPU while sending (the drain idles) says whether it was the bottleneck. */
const saturated = (sendingShare: number, what: string) =>
  sendingShare > GENERATOR_SATURATED
    ? `the load generator used ${percent(sendingShare)} of a core while sending ${what}: figures are the generator's`
    : undefined
/** Above this share of one core, other work on the machine took CPU the run needed. */
const BUSY_MACHINE = 0.25
const crowded = (otherShare: number) =>
  otherShare > BUSY_MACHINE
    ? `other processes on the machine used ${percent(otherShare)} of a core meanwhile: figures are the machine's load`
    : undefined
const warnings = (...lines: (string | undefined)[]) =>
  lines.filter((line) => line !== undefined).join('; ') || undefined

const modes: { [M in Mode]: ModeSpec<ModeResults[M]> } = {
  fanout: {
    title: `fan-out: ${fanoutSize}, ${settings.ratePerClient} msg/s each, ${settings.durationMs / 1000} s (CPU of every server process on the path, Redis, PostgreSQL and the edge's haproxy or the gateway included; peak RSS of the largest chat process during the run; other CPU %: every other process on the machine, in % of one core)`,
    runs: settings.runs,
    users: fanoutUsers,
    run: (target) => fanoutMode(target, settings),
    summary: (r) =>
      `${Math.round(r.deliveriesPerSecond)} deliveries/s, p99 ${ms(r.latency.p99)}, CPU s: ${cpuBreakdown(r.cpuSecondsByProcess)}; generator ${r.generatorCpuSeconds.toFixed(2)} s, ${percent(r.generatorCpu)} of a core (${percent(r.generatorSendingCpu)} while sending); other processes ${r.otherCpuSeconds.toFixed(2)} s`,
    warning: (r) =>
      warnings(
        saturated(r.generatorSendingCpu, `${settings.ratePerClient} msg/s per client`),
        crowded(r.otherCpuSeconds / r.windowSeconds),
      ),
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
      generatorColumn((r) => r.generatorCpu),
      {
        name: 'other CPU %',
        pick: (r) => (r.otherCpuSeconds * 100) / r.windowSeconds,
        digits: 0,
        ratio: false,
      },
    ],
  },
  sweep: {
    title: `rate sweep: highest msg/s per client with p99 < 100 ms, no loss, no errors (${fanoutSize}, ${settings.sweepDurationMs / 1000} s steps doubling from 1 msg/s up to ${settings.sweepMaxRate}, then 2 bisections)`,
    runs: settings.runs,
    users: fanoutUsers,
    run: (target, { log }) =>
      rateSweep(target, {
        ...settings,
        durationMs: settings.sweepDurationMs,
        maxRate: settings.sweepMaxRate,
        onStep: (s) =>
          log(
            `  ${s.ratePerClient} msg/s: ${s.passed ? 'pass' : 'fail'}, ${Math.round(s.deliveriesPerSecond)} deliveries/s, p99 ${ms(s.p99)}, loss ${s.loss}, errors ${s.errors}; target ${percent(s.targetCpu)}, generator ${percent(s.generatorCpu)} (${percent(s.generatorSendingCpu)} while sending), other processes ${percent(s.otherCpu)} of a core${s.generatorSendingCpu > GENERATOR_SATURATED ? ': the generator is saturated' : ''}`,
          ),
      }),
    summary: (r) =>
      `${r.ratePerClient} msg/s per client; generator ${percent(r.generatorCpu)} of a core at it`,
    warning: (r) => {
      const crowdedAt = r.steps.filter((step) => step.otherCpu > BUSY_MACHINE)
      return warnings(
        r.generatorSaturatedAt === undefined
          ? undefined
          : `the load generator used over ${percent(GENERATOR_SATURATED)} of a core while sending from ${r.generatorSaturatedAt} msg/s per client: the steps from there on are the generator's`,
        crowdedAt.length === 0
          ? undefined
          : `other processes on the machine used over ${percent(BUSY_MACHINE)} of a core in the steps at ${crowdedAt.map((step) => step.ratePerClient).join(', ')} msg/s per client: those are the machine's load`,
      )
    },
    columns: [
      { name: 'msg/s per client', pick: (r) => r.ratePerClient, digits: 2 },
      { name: 'deliveries/s', pick: (r) => r.deliveriesPerSecond, digits: 0 },
      { name: 'p99 ms', pick: (r) => r.p99, digits: 2 },
      generatorColumn((r) => r.generatorCpu),
      { name: 'other CPU %', pick: (r) => r.otherCpu * 100, digits: 0, ratio: false },
    ],
  },
  join: {
    title: `join storm: ${settings.joiners} clients join a fan-out room (a 50-message history), then part, every 100 ms each, under fan-out of ${fanoutSize} at ${settings.ratePerClient} msg/s each, ${settings.durationMs / 1000} s (the baseline keeps no history)`,
    runs: settings.runs,
    users: fanoutUsers + settings.joiners,
    run: (target) => joinStorm(target, { ...settings, drainMs: 1000 }),
    summary: (r) =>
      `${r.joins} joins, p99 ${ms(r.join.p99)}; generator ${percent(r.fanout.generatorCpu)} of a core`,
    warning: (r) => saturated(r.fanout.generatorSendingCpu, 'the fan-out and the joins'),
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
      generatorColumn((r) => r.fanout.generatorCpu),
    ],
  },
  idle: {
    title: `idle: ${settings.idleConnections} authenticated connections, each joined to one of 100 rooms (RSS and JavaScript heap summed over the chat processes, each read after a full garbage collection; measured once, before any other mode, since RSS does not shrink back after load; the edge's columns: RSS of the haproxy or gateway process in front, the gateway's after a collection too; the chats' figures are left out (–) for a cluster path measured after another, whose connections they already held)`,
    runs: 1,
    users: settings.idleConnections,
    run: (target, { serversUsedBefore }) =>
      idleConnections(target, {
        connections: settings.idleConnections,
        chatsReused: serversUsedBefore,
      }),
    summary: (r) =>
      `chats ${r.kibPerConnection.toFixed(1)} KiB RSS, ${r.heapKibPerConnection.toFixed(2)} KiB heap per connection${r.chatsReused ? ' (into memory freed by an earlier path)' : ''}${r.edge ? `; ${r.edge.name} ${r.edge.rssBeforeMiB.toFixed(1)} → ${r.edge.rssAfterMiB.toFixed(1)} MiB, ${r.edge.kibPerConnection.toFixed(1)} KiB per connection` : ''}`,
    warning: () => undefined,
    columns: [
      chatsColumn('RSS before MiB', (r) => r.rssBeforeMiB, 0),
      chatsColumn('RSS after MiB', (r) => r.rssAfterMiB, 0),
      chatsColumn('KiB/connection', (r) => r.kibPerConnection, 1),
      chatsColumn('heap before MiB', (r) => r.heapBeforeMiB, 1),
      chatsColumn('heap after MiB', (r) => r.heapAfterMiB, 1),
      chatsColumn('heap KiB/connection', (r) => r.heapKibPerConnection, 2),
      { name: 'edge RSS before MiB', pick: (r) => r.edge?.rssBeforeMiB, digits: 1 },
      { name: 'edge RSS after MiB', pick: (r) => r.edge?.rssAfterMiB, digits: 1 },
      { name: 'edge KiB/connection', pick: (r) => r.edge?.kibPerConnection, digits: 1 },
    ],
  },
}

interface TargetResults {
  name: string
  /** The name of the cluster's direct path, for the paths through the edge and the gateway. */
  direct?: string
  runs: { [M in Mode]: ModeResults[M][] }
  /** One line per run whose figures are not the target's. */
  warnings: { [M in Mode]: string[] }
  /** See `BenchTarget.idleRssAfterStart`. */
  idleRssAfterStart?: Record<string, number>
}

const benchStarted = Date.now()
function log(line: string) {
  const elapsed = Math.round((Date.now() - benchStarted) / 1000)
  process.stderr.write(`[${elapsed} s] ${line}\n`)
}

async function runMode<M extends Mode>(
  target: BenchTarget,
  mode: M,
  results: TargetResults,
  serversUsedBefore: boolean,
) {
  const spec: ModeSpec<ModeResults[M]> = modes[mode]
  for (let run = 1; run <= spec.runs; run++) {
    log(`${target.name}: ${mode} run ${run}/${spec.runs}`)
    const result = await spec.run(target, { log, serversUsedBefore })
    results.runs[mode].push(result)
    log(`${target.name}: ${mode} run ${run}/${spec.runs}: ${spec.summary(result)}`)
    const warning = spec.warning(result)
    if (warning) {
      results.warnings[mode].push(`${target.name}, run ${run}: ${warning}`)
      log(`warning: ${warning}`)
    }
  }
}

let current: Promise<BenchTarget[]> | undefined
// An interrupt stops the target too (once it has started, if it was starting): its processes
// would outlive this one, and the cluster's database and Redis keys are dropped on stop.
process.once('SIGINT', () => {
  log('interrupted, stopping the target')
  void (
    current?.then((targets) => Promise.all(targets.map((target) => target.stop()))) ??
    Promise.resolve()
  )
    .catch(() => {})
    .finally(() => process.exit(130))
})

/**
 * Starts a group (one target, or the cluster's paths over one set of processes) and runs every
 * mode on each of its targets in turn, mode by mode. Adds the results to `all` as they come,
 * so that a failure leaves them standing.
 */
async function measure(group: TargetName[], all: TargetResults[]): Promise<void> {
  log(`starting ${group.join(', ')}`)
  current = start(group)
  const targets = await current
  const results = targets.map(
    (target): TargetResults => ({
      name: target.name,
      runs: { fanout: [], sweep: [], join: [], idle: [] },
      warnings: { fanout: [], sweep: [], join: [], idle: [] },
      ...(target.idleRssAfterStart && { idleRssAfterStart: target.idleRssAfterStart }),
    }),
  )
  for (const result of results) {
    if (result.idleRssAfterStart) log(`${result.name}: ${idleRssLine(result.idleRssAfterStart)}`)
  }
  // The paths through the edge and the gateway are also compared with the direct one.
  const direct = group.includes('cluster') ? results[group.indexOf('cluster')] : undefined
  for (const result of results) if (direct && result !== direct) result.direct = direct.name
  all.push(...results)
  try {
    const users = Math.max(...settings.modes.map((mode) => modes[mode].users))
    log(`${group.join(', ')}: registering and logging in ${users} users`)
    // The cluster's paths share their users: the first call registers them, the others reuse.
    for (const target of targets) await target.tokens(users)
    for (const mode of settings.modes) {
      for (const [index, target] of targets.entries()) {
        await runMode(target, mode, results[index] as TargetResults, index > 0)
      }
    }
  } finally {
    current = undefined
    // Shared by the cluster's paths, and run once.
    await Promise.all(targets.map((target) => target.stop()))
  }
}

/** `idle RSS after start: a X MiB + b Y MiB = Z MiB`. */
function idleRssLine(byProcess: Record<string, number>): string {
  // Whole MiB, summed as shown.
  const entries = Object.entries(byProcess).map(([name, mib]) => [name, Math.round(mib)] as const)
  const total = entries.reduce((sum, [, mib]) => sum + mib, 0)
  const parts = entries.map(([name, mib]) => `${name} ${mib} MiB`).join(' + ')
  return `idle RSS after start: ${parts} = ${total} MiB`
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length / 2
  return Number.isInteger(middle)
    ? ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
    : (sorted[Math.floor(middle)] as number)
}

const defined = (values: (number | undefined)[]) =>
  values.filter((value): value is number => value !== undefined)

/** `median [min–max]`, then its ratio to each reference given (the baseline, the direct path). */
function cell(
  given: (number | undefined)[],
  digits: number,
  references: { name?: string; values: (number | undefined)[] }[] = [],
): string {
  const values = defined(given)
  if (values.length === 0) return '–'
  const value = median(values)
  const text = `${value.toFixed(digits)} [${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}]`
  const ratios = references.flatMap(({ name, values: referenceValues }) => {
    const reference = defined(referenceValues)
    if (reference.length === 0) return []
    const base = median(reference)
    const ratio = base === 0 ? '–' : `${(value / base).toFixed(2)}×`
    return [name ? `${ratio} ${name}` : ratio]
  })
  return ratios.length > 0 ? `${text} (${ratios.join(', ')})` : text
}

function table<M extends Mode>(mode: M, results: TargetResults[]): string {
  const spec: ModeSpec<ModeResults[M]> = modes[mode]
  const measured = results.filter((target) => target.runs[mode].length > 0)
  const baseline = measured[0]
  const rows = measured.map((target) => [
    target.name,
    ...spec.columns.map((column) => {
      const of = (t: TargetResults) => t.runs[mode].map((result) => column.pick(result))
      if (target === baseline || column.ratio === false) return cell(of(target), column.digits)
      const direct = measured.find((other) => other.name === target.direct)
      return cell(of(target), column.digits, [
        { values: of(baseline as TargetResults) },
        ...(direct ? [{ name: 'direct', values: of(direct) }] : []),
      ])
    }),
  ])
  const header = ['target', ...spec.columns.map((column) => column.name)]
  return [header, header.map(() => '---'), ...rows]
    .map((row) => `| ${row.join(' | ')} |`)
    .join('\n')
}

const results: TargetResults[] = []
try {
  for (const group of startGroups) await measure(group, results)
} finally {
  if (values.json) {
    writeFileSync(values.json, `${JSON.stringify({ settings, results }, null, 2)}\n`)
    log(`raw results written to ${values.json}`)
  }
  process.stdout.write(
    "\nEach figure: median [min–max] over the runs; in parentheses, the median's ratio to the baseline's median and, for the cluster's paths through the edge and the gateway, to the direct path's. The generator CPU %: the load generator's own CPU (process.cpuUsage) over the window the servers' CPU is read over, in % of one core.\n",
  )
  const atRest = results.filter((target) => target.idleRssAfterStart)
  if (atRest.length > 0) {
    process.stdout.write(
      `\nMemory at rest: resident sets 5 s after the start, before any client (the standalone's after a full garbage collection, which V8 makes on its own within ~30 s at rest; PGlite's process has no inspector):\n\n${atRest.map((target) => `- ${target.name}: ${idleRssLine(target.idleRssAfterStart as Record<string, number>)}`).join('\n')}\n`,
    )
  }
  for (const mode of settings.modes) {
    const { title, runs } = modes[mode]
    process.stdout.write(`\n${title}; ${runs} run(s)\n\n${table(mode, results)}\n`)
    const warnings = results.flatMap((target) => target.warnings[mode])
    if (warnings.length > 0) {
      process.stdout.write(`\n${warnings.map((line) => `Warning: ${line}.`).join('\n')}\n`)
    }
  }
}
