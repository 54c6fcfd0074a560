import { runEmbeddedServerProcess } from './embedded-server.js'

// The child process of startEmbeddedServer: the PGlite data directory, then `--initialize` to
// only create it.
await runEmbeddedServerProcess(process.argv[2] as string, {
  initializeOnly: process.argv[3] === '--initialize',
})
