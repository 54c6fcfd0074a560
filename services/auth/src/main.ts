import { openStorage, runService } from '@finchat/kit'
import { buildAuth } from './app.js'
import { loadAuthConfig } from './config.js'
import { migrateAuth } from './db/migrate.js'
import { authOptions, signingKeys } from './deps.js'

await runService({
  loadConfig: () => loadAuthConfig(),
  server: (config) => ({ trustProxy: config.trustProxy }),
  async setup(app, config) {
    const storage = await openStorage(app, config, migrateAuth)
    const keys = await signingKeys(config)
    await app.register(buildAuth(await authOptions(config, { ...storage, keys })))
    return storage
  },
})
