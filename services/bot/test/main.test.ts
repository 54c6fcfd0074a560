import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { ServerFrame } from '@finchat/protocol'
import { PASSWORD, redisUrl, startFakeStooq } from '@finchat/testing'
import t from 'tap'
import { ExitCode } from '../src/chat/bot-start-error.js'
import { answerSeenBy, ask, startChatHost } from './helpers/bot-harness.js'

// The bot as an operator runs it: `services/bot/src/main.ts` configured by the environment.
// A bot that cannot work as configured says why in one line and exits non-zero, as the
// original did; a working one answers, and stops cleanly on SIGTERM.

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

function startBotProcess(env: NodeJS.ProcessEnv) {
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  }
  const child = spawn(
    process.execPath,
    ['--conditions=@finchat/source', '--import=tsx', 'services/bot/src/main.ts'],
    { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  return {
    child,
    exited,
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
  }
}

/** Runs the bot until it exits; resolves with its status and what it wrote to stderr. */
async function runToExit(env: NodeJS.ProcessEnv) {
  const bot = startBotProcess(env)
  const timer = setTimeout(() => bot.child.kill('SIGKILL'), 30_000)
  const code = await bot.exited
  clearTimeout(timer)
  return { code, lines: bot.stderr.trim().split('\n') }
}

const host = await startChatHost(t)
await host.createRooms('investments', 'friends')
await host.register('finbot')
const stooq = await startFakeStooq(t)
stooq.quote('aapl.us', '93.42')
const env = {
  FINBOT_HOST: host.host,
  FINBOT_USERNAME: 'finbot',
  FINBOT_PASSWORD: PASSWORD,
  FINBOT_ROOMS: 'investments',
  FINBOT_QUOTE_URL: stooq.url,
}

t.test('misconfigured: one line naming the problem, and a non-zero exit', async (t) => {
  const cases: Array<[string, NodeJS.ProcessEnv, number, RegExp]> = [
    [
      'missing credentials',
      { FINBOT_HOST: host.host },
      78,
      /^invalid configuration: FINBOT_USERNAME is required; FINBOT_PASSWORD is required$/,
    ],
    [
      'wrong password',
      { ...env, FINBOT_PASSWORD: 'not-the-password' },
      ExitCode.credentials,
      /^finbot: login refused for "finbot": wrong FINBOT_USERNAME or FINBOT_PASSWORD$/,
    ],
    [
      'unreachable host',
      { ...env, FINBOT_HOST: '127.0.0.1:1' },
      ExitCode.unavailable,
      /^finbot: cannot reach the chat server at FINBOT_HOST=127\.0\.0\.1:1: .*ECONNREFUSED/,
    ],
    [
      'no valid room',
      { ...env, FINBOT_ROOMS: 'nowhere:nothing' },
      ExitCode.config,
      /^finbot: none of the rooms in FINBOT_ROOMS exists on the server \(nowhere, nothing\)$/,
    ],
  ]
  for (const [name, caseEnv, status, line] of cases) {
    const { code, lines } = await runToExit(caseEnv)
    t.equal(code, status, `${name}: exit status ${status}`)
    t.equal(lines.length, 1, `${name}: one line`)
    t.match(lines[0], line, `${name}: ${lines[0]}`)
  }
})

t.test('an account already chatting is reported as such', async (t) => {
  const holder = await host.user('busybot')
  const { code, lines } = await runToExit({ ...env, FINBOT_USERNAME: 'busybot' })
  t.equal(code, ExitCode.inUse)
  t.same(lines, [
    'finbot: the account "busybot" is already chatting elsewhere (already-chatting); give each bot its own account',
  ])
  await holder.close()
})

t.test('configured right: it answers, and SIGTERM stops it cleanly', async (t) => {
  const alice = await host.user('alice')
  await alice.join('investments')
  // With Redis the bot reads the command stream, as in a deployment; without, its websocket.
  const bot = startBotProcess({
    ...env,
    ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_PREFIX: host.prefix } : {}),
  })
  t.teardown(() => bot.child.kill('SIGKILL'))
  const isFinbot = (code: string) => (f: ServerFrame) =>
    f.type === 'room:notification' && f.code === code && f.user === 'finbot'
  await alice.next(isFinbot('joined'), 30_000).catch((error) => {
    throw new Error(`${error.message}\nbot stderr: ${bot.stderr}\nbot stdout: ${bot.stdout}`)
  })
  // In stream mode the consumer group is in place just after the join: wait for its log line.
  while (!bot.stdout.includes('the stock bot is answering')) await once(bot.child.stdout, 'data')
  ask(alice, 'aapl.us')
  t.equal(await answerSeenBy(alice), 'AAPL.US quote is $93.42 per share')

  bot.child.kill('SIGTERM')
  t.equal(await bot.exited, 0, 'exit status 0')
  await alice.next(isFinbot('parted'))
  t.equal(bot.stderr, '', 'nothing on stderr')
})
