import { BusyError } from '@finchat/kit'
import t from 'tap'
import { createBoundedHasher, type PasswordHasher } from '../../src/users/password-hasher.js'

/** A hasher whose every hash and check waits until the test lets it finish. */
function heldHasher() {
  const held: (() => void)[] = []
  let running = 0
  let most = 0
  const hold = <T>(value: T) => {
    running++
    most = Math.max(most, running)
    return new Promise<T>((resolve) =>
      held.push(() => {
        running--
        resolve(value)
      }),
    )
  }
  const hasher: PasswordHasher = {
    hash: (password) => hold(`hashed:${password}`),
    verify: (password, stored) => hold(stored === `hashed:${password}`),
  }
  return {
    hasher,
    get most() {
      return most
    },
    get held() {
      return held.length
    },
    /** Lets the oldest one finish. */
    release: () => held.shift()?.(),
  }
}

const settled = () => new Promise((resolve) => setImmediate(resolve))

t.test('at most `concurrency` hashes run; the rest wait their turn, in order', async (t) => {
  const inner = heldHasher()
  const bounded = createBoundedHasher(inner.hasher, { concurrency: 2, maxWaiting: 10 })
  const answers = Array.from({ length: 6 }, (_, i) => bounded.verify(`p${i}`, `hashed:p${i}`))
  await settled()
  t.equal(inner.held, 2, 'two running')
  for (let i = 0; i < 6; i++) {
    inner.release()
    await settled()
  }
  t.same(await Promise.all(answers), [true, true, true, true, true, true])
  t.equal(inner.most, 2, 'never more than two at once')
})

t.test('past the wait, a check is refused at once: BusyError, 503', async (t) => {
  const inner = heldHasher()
  const bounded = createBoundedHasher(inner.hasher, { concurrency: 1, maxWaiting: 4 })
  const queued = Array.from({ length: 5 }, () => bounded.verify('p', 'hashed:p'))
  await t.rejects(bounded.verify('p', 'hashed:p'), BusyError, 'one running, four waiting: full')
  const refused = await bounded.verify('p', 'hashed:p').catch((error: unknown) => error)
  t.match(refused, { statusCode: 503, retryAfterSeconds: 1 }, 'a 503 asking to retry in a second')
  for (let i = 0; i < 5; i++) {
    inner.release()
    await settled()
  }
  t.same(await Promise.all(queued), [true, true, true, true, true])
  const again = bounded.verify('p', 'hashed:p')
  await settled()
  inner.release()
  t.equal(await again, true, 'room again once the line moved')
})

t.test('new passwords fill only half of the wait: logins keep the rest', async (t) => {
  const inner = heldHasher()
  const bounded = createBoundedHasher(inner.hasher, { concurrency: 1, maxWaiting: 4 })
  const signups = [bounded.hash('a'), bounded.hash('b'), bounded.hash('c')]
  await t.rejects(bounded.hash('d'), BusyError, 'registrations: one running, two waiting, full')
  const logins = [bounded.verify('x', 'hashed:x'), bounded.verify('y', 'hashed:y')]
  await t.rejects(bounded.verify('z', 'hashed:z'), BusyError, 'logins have the other half')
  for (let i = 0; i < 5; i++) {
    inner.release()
    await settled()
  }
  t.same(await Promise.all(signups), ['hashed:a', 'hashed:b', 'hashed:c'])
  t.same(await Promise.all(logins), [true, true])
})
