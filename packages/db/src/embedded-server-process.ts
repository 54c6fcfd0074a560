import { runEmbeddedServerProcess } from './embedded-server.js'

// The child process of startEmbeddedServer: its one argument is the PGlite data directory.
await runEmbeddedServerProcess(process.argv[2] as string)
