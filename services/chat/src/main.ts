import { join } from 'node:path'
import { openStorage, runService } from '@finchat/kit'
import { loadOrCreateKeyFiles } from '@finchat/sessions'
import { buildChat } from './app.js'
import { loadChatConfig } from './config.js'
import { migrateChat } from './db/migrate.js'
import { chatOptions } from './deps.js'

await runService({
  loadConfig: () => loadChatConfig(),
  async setup(app, config) {
    const storage = await openStorage(app, config, migrateChat)
    const publicKey =
      config.JWT_PUBLIC_KEY ?? (await loadOrCreateKeyFiles(join(config.DATA_DIR, 'keys'))).publicKey
    await app.register(buildChat(chatOptions(config, { ...storage, publicKey, logger: app.log })))
    return storage
  },
})
