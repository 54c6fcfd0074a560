export * from './chat-client.js'
export * from './frame-waiters.js'
export * from './http-client.js'
