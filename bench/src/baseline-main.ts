import { startBaselineServer } from './baseline-server.js'

// The baseline in a process of its own, so that its CPU and memory are its alone.
const server = await startBaselineServer(Number(process.env.PORT ?? 0))
process.stdout.write(`${server.wsUrl}\n`)
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0))
})
