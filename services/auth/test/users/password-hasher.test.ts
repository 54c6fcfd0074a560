import t from 'tap'
import { createScryptHasher } from '../../src/users/password-hasher.js'

t.test('passwords are stored as salted scrypt hashes that verify', async (t) => {
  const hasher = createScryptHasher(10)
  const a = await hasher.hash('correct-horse-battery')
  const b = await hasher.hash('correct-horse-battery')
  t.not(a, b, 'a fresh salt each time')
  t.notMatch(a, /correct-horse/)
  t.match(a, /^scrypt\$10\$8\$1\$/)
  t.equal(await hasher.verify('correct-horse-battery', a), true)
  t.equal(await hasher.verify('correct-horse-batterY', a), false)
  t.equal(await hasher.verify('anything', 'not a hash'), false)
  t.equal(
    await createScryptHasher(11).verify('correct-horse-battery', a),
    true,
    'cost travels with the hash',
  )
})
