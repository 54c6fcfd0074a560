import t from 'tap'
import { loadBotConfig } from '../src/config.js'

const credentials = { FINBOT_USERNAME: 'finbot', FINBOT_PASSWORD: 'secret-password' }

t.test("the original's variables, with its defaults", async (t) => {
  const config = loadBotConfig({ ...credentials, FINBOT_HOST: '', FINBOT_ROOMS: '' })
  t.equal(config.httpUrl, 'http://localhost:8000', 'an empty FINBOT_HOST means localhost:8000')
  t.equal(config.wsUrl, 'ws://localhost:8000/ws/chat')
  t.same(config.rooms, [], 'no rooms: every room on the server')
  t.equal(config.group, 'finbot')
  t.equal(config.FINBOT_QUOTE_URL, 'https://stooq.com')
  t.equal(config.FINBOT_QUOTE_TIMEOUT_MS, 5000)
  t.equal(config.FINBOT_COMMAND_MAX_AGE_MS, 10_000)
})

t.test('FINBOT_ROOMS is colon-separated; bots with the same rooms share a group', async (t) => {
  const config = loadBotConfig({
    ...credentials,
    FINBOT_ROOMS: 'investments: friends::investments',
  })
  t.same(config.rooms, ['investments', 'friends'])
  t.equal(config.group, 'finbot:friends:investments')
  t.equal(loadBotConfig({ ...credentials, FINBOT_ROOMS: 'a', FINBOT_GROUP: 'mine' }).group, 'mine')
})

t.test('FINBOT_HOST as host:port or as a URL', async (t) => {
  const remote = loadBotConfig({ ...credentials, FINBOT_HOST: 'foo.bar.baz:8888' })
  t.same(
    [remote.httpUrl, remote.wsUrl],
    ['http://foo.bar.baz:8888', 'ws://foo.bar.baz:8888/ws/chat'],
  )
  const tls = loadBotConfig({ ...credentials, FINBOT_HOST: 'https://chat.example.com/' })
  t.same([tls.httpUrl, tls.wsUrl], ['https://chat.example.com', 'wss://chat.example.com/ws/chat'])
  t.throws(() => loadBotConfig({ ...credentials, FINBOT_HOST: 'foo:bar:baz' }), /FINBOT_HOST/)
  t.throws(
    () => loadBotConfig({ ...credentials, FINBOT_HOST: 'http://x/some/path' }),
    /FINBOT_HOST/,
  )
})

t.test('missing credentials are named together', async (t) => {
  t.throws(() => loadBotConfig({}), /FINBOT_USERNAME is required; FINBOT_PASSWORD is required/)
})

t.test(
  'the daily history is kept 6 hours unless FINBOT_HISTORY_TTL_MS says otherwise',
  async (t) => {
    t.equal(loadBotConfig(credentials).FINBOT_HISTORY_TTL_MS, 6 * 3_600_000)
    t.equal(loadBotConfig({ ...credentials, FINBOT_HISTORY_TTL_MS: '0' }).FINBOT_HISTORY_TTL_MS, 0)
    for (const value of ['-1', 'six hours', '1.5', String(8 * 86_400_000)]) {
      t.throws(
        () => loadBotConfig({ ...credentials, FINBOT_HISTORY_TTL_MS: value }),
        /FINBOT_HISTORY_TTL_MS/,
        `refused at boot: ${value}`,
      )
    }
  },
)
