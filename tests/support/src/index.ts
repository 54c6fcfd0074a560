export {
  type Deployment,
  type DeploymentOptions,
  type Launched,
  type LaunchOptions,
  launchDeployment,
  startDeployment,
} from './deployment.js'
export {
  EDGE_CONFIG,
  type EdgeOptions,
  type EdgeProxy,
  type EdgeServer,
  haproxyAvailable,
  haproxyBinary,
  spawnEdge,
  startEdge,
} from './edge-proxy.js'
export {
  CSV_HEADER,
  type FakeAnswer,
  type FakeDay,
  type FakeRequest,
  type FakeStooq,
  HISTORY_HEADER,
  QUOTE_DATE,
  standardHistory,
  startFakeStooq,
} from './fake-stooq.js'
export { startPostgresServer } from './postgres-server.js'
export { freePort, startRedisServer } from './redis-server.js'
export {
  REPO_ROOT,
  type ServiceProcess,
  spawnService,
  startServiceProcess,
} from './service-process.js'
export {
  type Answer,
  type Outsider,
  PASSWORD,
  redisUrl,
  type Stack,
  type StackOptions,
  type StackServer,
  startStack,
} from './stack.js'
