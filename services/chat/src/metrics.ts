import { Counter, Gauge, type Registry } from 'prom-client'

/** The chat instance's metrics, on the server's registry. */
export function createChatMetrics(registry: Registry) {
  return {
    connections: new Gauge({
      name: 'chat_connections',
      help: 'Open chat websockets on this instance',
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'chat_deliveries_total',
      help: 'Room frames handed to local connections',
      registers: [registry],
    }),
    eventsRead: new Counter({
      name: 'chat_events_read_total',
      help: 'chat:events entries read by this instance',
      registers: [registry],
    }),
  }
}
