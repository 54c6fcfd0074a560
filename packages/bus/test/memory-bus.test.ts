import { createMemoryBus } from '../src/index.js'
import { runBusContract } from './bus-contract.js'

runBusContract((options) => ({ bus: createMemoryBus(options) }))
