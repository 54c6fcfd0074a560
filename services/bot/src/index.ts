export { buildBot } from './app.js'
export { BotStartError, ExitCode } from './chat/bot-start-error.js'
export { type BotConfig, BotConfigSchema, loadBotConfig } from './config.js'
export { stockBotOptions } from './deps.js'
export {
  type CommandSource,
  createStockBot,
  type StockBot,
  type StockBotOptions,
} from './stock-bot.js'
