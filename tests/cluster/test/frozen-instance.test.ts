import { setTimeout as sleep } from 'node:timers/promises'
import type { HistoryNotification } from '@finchat/protocol'
import { type ChatClient, ChatError } from '@finchat/protocol/client'
import { startDeployment } from '@finchat/testing'
import t from 'tap'
import { connectionsOn, needsServers, users } from './cluster-story.js'

// A chat instance frozen (SIGSTOP, as a paused VM or a stuck process) while its writer holds
// room locks, in the middle of a burst from users on both instances in shared rooms. What the
// users see through port 8000, and what the history keeps once it is thawed (SIGCONT).

const ROOMS = ['north', 'south', 'east']
/**
 * Longest wait of a sender on the other instance for an answer, echo or `internal-error`: a
 * writer waits for a room lock at most PostgreSQL's `lock_timeout` (5 s by default), and a
 * message may wait for the batch before its own. Generous: the machine may be busy.
 */
const ANSWERED_WITHIN_MS = 25_000
/** Until every room flows again: PostgreSQL ends the frozen session (`idle_session_timeout`, 10 s). */
const FLOWING_WITHIN_MS = 45_000

async function eventually(check: () => boolean, timeoutMs: number, what: string) {
  const started = performance.now()
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`not ${what} in ${timeoutMs} ms`)
    await sleep(50)
  }
  return performance.now() - started
}

/** Everything a room's history holds, oldest first, paged with `after`. */
async function wholeHistory(client: ChatClient, room: string): Promise<number[]> {
  const ids: number[] = []
  for (;;) {
    client.send({ type: 'history', room_name: room, after: ids.at(-1) ?? 0, limit: 50 })
    const page = (await client.next(
      (f) => f.type === 'notification' && f.code === 'history' && f.room_name === room,
      10_000,
    )) as HistoryNotification
    ids.push(...page.messages.map((m) => m.id).reverse())
    if (page.messages.length < 50) return ids
  }
}

t.test('a chat instance frozen in the middle of a write burst', async (t) => {
  if (needsServers) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  // No rate limit: the frozen instance's users keep its writer busy, so it holds room locks.
  const deployment = await startDeployment(t, {
    env: { CHAT_RATE_BURST: '1000000', CHAT_RATE_PER_SECOND: '1000000' },
  })
  await deployment.createRooms(...ROOMS)
  const people = users(t, deployment)
  const [first, second] = deployment.chats
  if (!first || !second) throw new Error('two chat instances expected')

  const clients = new Map<string, ChatClient>()
  const onFirst: string[] = []
  const onSecond: string[] = []
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']) {
    const before = await connectionsOn(first.url)
    clients.set(name, await people.user(name))
    ;((await connectionsOn(first.url)) > before ? onFirst : onSecond).push(name)
  }
  t.ok(onFirst.length >= 2 && onSecond.length >= 2, `spread: ${onFirst} | ${onSecond}`)

  // What each user saw: message ids per room, in the order they arrived; and every own echo.
  const seen = new Map<string, Map<string, number[]>>()
  const echoed = new Set<number>()
  for (const [name, client] of clients) {
    for (const room of ROOMS) await client.join(room)
    const rooms = new Map(ROOMS.map((room) => [room, [] as number[]]))
    seen.set(name, rooms)
    client.onFrame((f) => {
      if (f.type !== 'room:notification' || f.code !== 'message') return
      rooms.get(f.room_name)?.push(f.id)
      if (f.you) echoed.add(f.id)
    })
  }

  // The first instance's users send without waiting; the second's one at a time, each answer timed.
  let flooding = true
  for (const name of onFirst) {
    const client = clients.get(name) as ChatClient
    void (async () => {
      for (let n = 0; flooding; n++) {
        for (const room of ROOMS) {
          client.send({ type: 'message', room_name: room, body: `${name} floods ${n}` })
        }
        await sleep(3)
      }
    })()
  }
  let saying = true
  const answers: { name: string; sentAt: number; answeredAt: number; ok: boolean }[] = []
  const sayers = onSecond.map(async (name) => {
    const client = clients.get(name) as ChatClient
    for (let n = 0; saying; n++) {
      const sentAt = performance.now()
      try {
        await client.say(ROOMS[n % ROOMS.length] as string, `${name} says ${n}`, 120_000)
        answers.push({ name, sentAt, answeredAt: performance.now(), ok: true })
      } catch (error) {
        if (!(error instanceof ChatError) || error.frame.code !== 'internal-error') throw error
        answers.push({ name, sentAt, answeredAt: performance.now(), ok: false })
      }
    }
  })
  const sayersDone = Promise.all(sayers)
  sayersDone.catch(() => {})

  await eventually(() => echoed.size > 300, 60_000, 'bursting')
  // Whatever happens below, the frozen process runs again before the deployment is torn down.
  t.teardown(() => {
    first.process.kill('SIGCONT')
  })
  first.process.kill('SIGSTOP')
  const frozenAt = performance.now()
  flooding = false
  await sleep(1000)
  t.ok(
    (await deployment.idleLockHolders(500)) > 0,
    'the frozen instance holds room locks in an idle session',
  )

  // The other instance's senders are answered (echo or internal-error) within seconds, and its
  // rooms flow again once PostgreSQL has ended the frozen session.
  const flowing = await eventually(
    () =>
      onSecond.every((name) =>
        answers.some((a) => a.name === name && a.ok && a.sentAt > frozenAt + 1000),
      ),
    FLOWING_WITHIN_MS,
    'flowing again',
  )
  const duringFreeze = answers.filter((a) => a.answeredAt > frozenAt)
  const slowest = Math.max(...duringFreeze.map((a) => a.answeredAt - Math.max(a.sentAt, frozenAt)))
  t.ok(
    slowest < ANSWERED_WITHIN_MS,
    `while frozen, every sender was answered in time (slowest ${Math.round(slowest)} ms, ` +
      `${duringFreeze.filter((a) => !a.ok).length} internal-error); flowing after ${Math.round(flowing)} ms`,
  )

  // Thawed: the instance finds itself reaped and lets its users go; what it stored but could no
  // longer announce (its lock lapsed) is refused to it, not delivered out of order.
  first.process.kill('SIGCONT')
  const codes = await Promise.all(onFirst.map((name) => (clients.get(name) as ChatClient).closed))
  t.comment(`the thawed instance's users were closed with ${codes.map((c) => c.code)}`)
  const said = answers.length
  await eventually(() => answers.length > said + 3 * onSecond.length, 30_000, 'said after the thaw')
  saying = false
  await sayersDone

  const checker = await people.user('ivan')
  const history = new Set<number>()
  for (const room of ROOMS) {
    await checker.join(room)
    for (const id of await wholeHistory(checker, room)) history.add(id)
  }
  t.same(
    [...echoed].filter((id) => !history.has(id)),
    [],
    `all ${echoed.size} messages echoed to their senders are in the history`,
  )
  for (const [name, rooms] of seen) {
    for (const [room, ids] of rooms) {
      const backwards = ids.filter((id, i) => i > 0 && id <= (ids[i - 1] as number))
      t.same(backwards, [], `${name} saw ${room}'s ${ids.length} ids increasing`)
      const unknown = ids.filter((id) => !history.has(id))
      t.same(unknown, [], `what ${name} received in ${room} is in the history`)
    }
  }
})
