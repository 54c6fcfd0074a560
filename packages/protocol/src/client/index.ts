export * from './chat-client.js'
export * from './http-client.js'
