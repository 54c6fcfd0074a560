import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { type FanoutResult, runFanout } from './fanout.js'
import { cpuMeter, peakRssMiB } from './process-stats.js'
import { startStandalone } from './standalone-target.js'

// `pnpm bench`: fan-out at a fixed rate against the in-memory baseline and against `pnpm start`,
// measured in the same run, each figure also as a ratio to the baseline's.

const { values } = parseArgs({
  // pnpm may hand over a '--' separator as a positional argument.
  allowPositionals: true,
  options: {
    rooms: { type: 'string', default: '10' },
    clients: { type: 'string', default: '50' },
    rate: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
  },
})
const rooms = Number(values.rooms)
const clientsPerRoom = Number(values.clients)
const ratePerClient = Number(values.rate)
const durationMs = Number(values.duration) * 1000
const runs = Number(values.runs)
const count = rooms * clientsPerRoom

interface Row extends FanoutResult {
  cpuSeconds: number
  peakRss: number
}

function median(rows: Row[], pick: (row: Row) => number): number {
  const sorted = rows.map(pick).sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

async function measure(
  name: string,
  target: { pid: number; wsUrl: string; tokens: string[] },
): Promise<Row[]> {
  const rows: Row[] = []
  for (let run = 1; run <= runs; run++) {
    const meter = cpuMeter(() => [target.pid])
    meter.start()
    const result = await runFanout({
      wsUrls: [target.wsUrl],
      tokens: target.tokens,
      rooms,
      clientsPerRoom,
      ratePerClient,
      durationMs,
    })
    rows.push({ ...result, cpuSeconds: meter.stop(), peakRss: peakRssMiB(target.pid) })
    process.stderr.write(
      `${name} run ${run}: ${Math.round(result.deliveriesPerSecond)} deliveries/s\n`,
    )
  }
  return rows
}

const baseline = spawn(
  process.execPath,
  ['--import=tsx', new URL('./baseline-main.ts', import.meta.url).pathname],
  { stdio: ['ignore', 'pipe', 'inherit'] },
)
const [baselineUrl] = (await once(createInterface({ input: baseline.stdout }), 'line')) as [string]
const baselineRows = await measure('baseline', {
  pid: baseline.pid as number,
  wsUrl: baselineUrl,
  tokens: Array.from({ length: count }, (_, i) => `user${i}`),
})
baseline.kill('SIGTERM')

const standalone = await startStandalone()
const standaloneRows = await measure('standalone', {
  pid: standalone.pid,
  wsUrl: standalone.wsUrl,
  tokens: await standalone.tokens(count),
})
await standalone.stop()

const columns = [
  'target',
  'sent/s',
  'deliveries/s',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'max ms',
  'loss',
  'errors',
  'CPU µs/delivery',
  'peak RSS MiB',
]
const cpuPerDelivery = (row: Row) => (row.cpuSeconds * 1e6) / Math.max(1, row.deliveries)
const line = (name: string, rows: Row[], base?: Row[]) => {
  const cell = (pick: (row: Row) => number, digits = 1) => {
    const value = median(rows, pick)
    const text = value.toFixed(digits)
    return base ? `${text} (${(value / Math.max(1e-9, median(base, pick))).toFixed(2)}×)` : text
  }
  return [
    name,
    cell((r) => r.sentPerSecond, 0),
    cell((r) => r.deliveriesPerSecond, 0),
    cell((r) => r.latency.p50, 2),
    cell((r) => r.latency.p95, 2),
    cell((r) => r.latency.p99, 2),
    cell((r) => r.latency.max, 1),
    String(median(rows, (r) => r.loss)),
    String(median(rows, (r) => r.errors)),
    cell(cpuPerDelivery, 2),
    cell((r) => r.peakRss, 0),
  ]
}
const table = [
  columns,
  line('baseline (ws, in memory)', baselineRows),
  line('standalone (pnpm start)', standaloneRows, baselineRows),
]
process.stdout.write(
  `\nfan-out: ${rooms} rooms × ${clientsPerRoom} clients, ${ratePerClient} msg/s each, ${durationMs / 1000} s, median of ${runs} runs (ratio to the baseline in brackets)\n` +
    `(CPU and RSS are the server process's; the load generator runs in this one)\n\n` +
    table.map((row) => `| ${row.join(' | ')} |`).join('\n') +
    '\n',
)
