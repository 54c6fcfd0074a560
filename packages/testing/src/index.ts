export {
  CSV_HEADER,
  type FakeAnswer,
  type FakeRequest,
  type FakeStooq,
  startFakeStooq,
} from './fake-stooq.js'
export {
  PASSWORD,
  redisUrl,
  type ServiceStack,
  type StackOptions,
  type StackServer,
  startServiceStack,
} from './service-stack.js'
