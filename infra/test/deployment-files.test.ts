import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { AuthConfigSchema } from '@finchat/auth'
import { BotConfigSchema } from '@finchat/bot'
import { ChatConfigSchema } from '@finchat/chat'
import { CliConfigSchema } from '@finchat/cli'
import { GatewayConfigSchema } from '@finchat/gateway'
import { StandaloneConfigSchema } from '@finchat/standalone'
import type { TObject } from '@sinclair/typebox'
import t from 'tap'
import { parse } from 'yaml'

// No Docker engine runs here, so the compose file and the Dockerfile are checked as text:
// what an operator relies on must not rot silently.

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url))
const composeText = readFileSync(root('docker-compose.yml'), 'utf8')
const compose = parse(composeText, { merge: true }) as Compose
const envSample = readFileSync(root('.env.sample'), 'utf8')
const sampleLines = envSample.split('\n')

interface ComposeService {
  image?: string
  build?: { context: string; dockerfile: string; target: string }
  command?: string[]
  profiles?: string[]
  ports?: string[]
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
  volumes?: string[]
  restart?: string
}
interface Compose {
  services: Record<string, ComposeService>
  volumes: Record<string, unknown>
}

const services = compose.services
const schemas: Record<string, TObject> = {
  auth: AuthConfigSchema,
  chat: ChatConfigSchema,
  gateway: GatewayConfigSchema,
  bot: BotConfigSchema,
  admin: CliConfigSchema,
  'bot-account': CliConfigSchema,
}

t.test('every part of the deployment is there', async (t) => {
  t.same(Object.keys(services).sort(), [
    'admin',
    'auth',
    'bot',
    'bot-account',
    'chat',
    'edge',
    'gateway',
    'migrate',
    'postgres',
    'redis',
  ])
})

t.test('PostgreSQL and Redis: current majors, health checks, named volumes', async (t) => {
  t.equal(services.postgres?.image, 'postgres:18')
  t.equal(services.redis?.image, 'redis:8')
  for (const name of ['postgres', 'redis']) {
    const service = services[name] as ComposeService
    t.ok(service.healthcheck?.test.length, `${name} has a health check`)
    const volume = service.volumes?.[0]?.split(':')[0] as string
    t.ok(volume in compose.volumes, `${name} keeps its data in the named volume ${volume}`)
  }
})

t.test('only the edge has a host port, so chat scales behind it', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    if (name === 'edge') t.same(service.ports, ['8000:8000'])
    else t.notOk(service.ports, `${name} publishes no port`)
  }
  t.equal(services.edge?.environment?.CHAT_DNS_NAME, 'chat:8002', 'the edge finds chat by name')
  t.equal(services.edge?.environment?.GATEWAY_ADDRESS, 'gateway:8000')
  t.equal(services.bot?.environment?.FINBOT_HOST, 'edge:8000', 'the bot comes in as clients do')
  // The gateway's own websocket relay, for development runs without the edge.
  t.equal(services.gateway?.environment?.CHAT_URLS, 'http://chat:8002', 'chat found by name')
})

t.test("behind the edge, each service believes one proxy's X-Forwarded-For", async (t) => {
  // The edge sets it for the gateway, the gateway for auth; `true` would believe any client.
  t.equal(services.gateway?.environment?.TRUST_PROXY, '1')
  t.equal(services.auth?.environment?.TRUST_PROXY, '1')
})

t.test('the edge is HAProxy 2.6 running the config file of infra/haproxy', async (t) => {
  const edge = services.edge as ComposeService
  t.equal(edge.image, 'haproxy:2.6')
  const [source, target, mode] = (edge.volumes?.[0] ?? '').split(':')
  t.equal(source, './infra/haproxy/haproxy.cfg')
  t.ok(existsSync(root(source as string)), 'the mounted config file exists')
  t.equal(target, '/usr/local/etc/haproxy/haproxy.cfg', 'where the official image reads it')
  t.equal(mode, 'ro')
  t.same(edge.depends_on, {
    chat: { condition: 'service_healthy' },
    gateway: { condition: 'service_healthy' },
  })
  // The config reads its settings from the environment: the edge is given those and only those.
  const config = readFileSync(root('infra/haproxy/haproxy.cfg'), 'utf8')
  const read = new Set(
    [...config.matchAll(/\$\{([A-Z0-9_]+)|defined\(([A-Z0-9_]+)\)/g)].map((m) => m[1] ?? m[2]),
  )
  for (const variable of Object.keys(edge.environment ?? {})) {
    t.ok(read.has(variable), `the edge's config reads ${variable}`)
  }
  for (const required of ['EDGE_PORT', 'GATEWAY_ADDRESS']) {
    t.ok(edge.environment?.[required], `the edge is given ${required}`)
  }
})

t.test('the compose file follows the Compose Specification (dclint)', async (t) => {
  // dclint validates against the specification's current JSON schema, then the rules of
  // infra/.dclintrc; its JSON report lists both kinds of problem.
  const require = createRequire(import.meta.url)
  const cli = join(dirname(require.resolve('dclint/package.json')), 'bin', 'dclint.cjs')
  const args = [cli, root('docker-compose.yml'), '-c', root('infra/.dclintrc'), '-f', 'json']
  const { stdout } = await promisify(execFile)(process.execPath, [...args, '--color', 'false'], {
    cwd: root('.'),
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }))
  const [report] = JSON.parse(stdout) as {
    messages: { rule: string; type: string; line: number; message: string }[]
  }[]
  const problems = (report?.messages ?? []).map((m) => `${m.line}: ${m.rule}: ${m.message}`)
  t.ok(report, 'dclint reported on docker-compose.yml')
  t.same(problems, [], 'no schema error, no rule broken')
})

t.test('services wait for the migration, which runs once', async (t) => {
  t.equal(services.migrate?.restart, 'no')
  for (const name of ['auth', 'chat']) {
    t.same(services[name]?.depends_on?.migrate, { condition: 'service_completed_successfully' })
  }
  t.same(services.bot?.depends_on?.edge, { condition: 'service_started' })
})

t.test('operators have the account commands, and the bot its account, without SQL', async (t) => {
  const {
    admin,
    'bot-account': botAccount,
    bot,
    migrate,
  } = services as Record<string, ComposeService>
  // `docker compose run --rm admin create-superuser`: the CLI on the deployment's database.
  t.equal(admin?.build?.target, 'cli')
  t.same(admin?.profiles, ['tools'], '`docker compose up` does not start it')
  t.equal(admin?.restart, 'no')
  t.equal(admin?.environment?.DATABASE_URL, migrate?.environment?.DATABASE_URL)
  t.equal(admin?.environment?.REDIS_URL, 'redis://redis:6379', 'deleted rooms reach chat')
  t.notOk(admin?.command, 'the command is what the operator types after `admin`')

  // At every `up`, before the bot: its account, from the variables the bot logs in with.
  t.equal(botAccount?.build?.target, 'cli')
  t.notOk(botAccount?.profiles, 'started by `docker compose up`')
  t.same(botAccount?.command, ['users', 'create-bot'])
  t.equal(botAccount?.restart, 'no')
  for (const name of ['FINBOT_USERNAME', 'FINBOT_PASSWORD']) {
    t.equal(botAccount?.environment?.[name], bot?.environment?.[name], `the bot's ${name}`)
  }
  t.same(bot?.depends_on?.['bot-account'], { condition: 'service_completed_successfully' })

  // The cli image runs the built CLI with what follows `docker compose run --rm admin`.
  const dockerfile = readFileSync(root('infra/Dockerfile'), 'utf8')
  t.match(
    dockerfile,
    /for service in [a-z ]*\bcli\b[a-z ]*; do/,
    'the CLI is deployed with the rest',
  )
  const stage = dockerfile.slice(dockerfile.search(/^FROM .+ AS cli$/m))
  t.match(stage, /^COPY --from=workspace --chown=node:node \/out\/cli \/app$/m)
  t.match(stage, /^ENTRYPOINT \["node", "dist\/main\.js"\]$/m)
  const cli = JSON.parse(readFileSync(root('services/cli/package.json'), 'utf8')) as {
    scripts: Record<string, string>
  }
  t.equal(cli.scripts.build, 'tsc -p tsconfig.build.json', 'and `pnpm build` builds it to dist/')
})

t.test('every build target exists in the Dockerfile it names', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    if (!service.build) continue
    const dockerfile = root(`${service.build.context}/${service.build.dockerfile}`)
    t.ok(existsSync(dockerfile), `${name}: ${service.build.dockerfile} exists`)
    const text = readFileSync(dockerfile, 'utf8')
    t.match(text, new RegExp(`^FROM .+ AS ${service.build.target}$`, 'm'), `${name}: target`)
  }
})

t.test(
  'the images ship production dependencies only, as a non-root user, with a health check',
  async (t) => {
    const dockerfile = readFileSync(root('infra/Dockerfile'), 'utf8')
    t.match(dockerfile, /pnpm install --frozen-lockfile/)
    t.match(dockerfile, /deploy --prod/)
    t.match(dockerfile, /^USER node$/m)
    t.match(dockerfile, /^HEALTHCHECK /m)
    t.ok(existsSync(root('.dockerignore')), 'the build context leaves node_modules and .env out')
  },
)

t.test('every variable the compose file reads is in .env.sample', async (t) => {
  const referenced = new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]))
  for (const name of referenced) {
    t.match(envSample, new RegExp(`^${name}=`, 'm'), `${name} is in .env.sample`)
  }
})

t.test('each service is given only variables it knows', async (t) => {
  for (const [name, schema] of Object.entries(schemas)) {
    const known = Object.keys(schema.properties)
    for (const variable of Object.keys(services[name]?.environment ?? {})) {
      t.ok(known.includes(variable), `${name} knows ${variable}`)
    }
  }
})

t.test('.env.sample lists every setting of every service, each with a comment', async (t) => {
  const settings = new Set(
    [...Object.values(schemas), StandaloneConfigSchema].flatMap((schema) =>
      Object.keys(schema.properties),
    ),
  )
  for (const name of settings) {
    const index = sampleLines.findIndex((line) => line.startsWith(`${name}=`))
    t.not(index, -1, `${name} is in .env.sample`)
    // A variable is explained by the comment right above it or by the block it belongs to.
    let above = index - 1
    while (above >= 0 && /^[A-Z0-9_]+=/.test(sampleLines[above] as string)) above--
    t.match(sampleLines[above], /^#/, `${name} comes with a comment`)
  }
})

t.test('no secret is committed: secrets in .env.sample are placeholders', async (t) => {
  for (const name of [
    'JWT_PRIVATE_KEY',
    'JWT_PUBLIC_KEY',
    'POSTGRES_PASSWORD',
    'FINBOT_PASSWORD',
  ]) {
    t.match(envSample, new RegExp(`^${name}=CHANGE_ME$`, 'm'), `${name} is a placeholder`)
  }
  t.notMatch(composeText, /BEGIN (PRIVATE|PUBLIC) KEY/, 'no key in the compose file')
})
