import t from 'tap'
import { createScryptHasher } from '../../src/users/password-hasher.js'

t.test('passwords are stored as salted scrypt hashes that verify', async (t) => {
  const hasher = createScryptHasher(10)
  const a = await hasher.hash('correct-horse-battery')
  const b = await hasher.hash('correct-horse-battery')
  t.not(a, b, 'a fresh salt each time')
  t.notMatch(a, /correct-horse/)
  t.match(a, /^scrypt\$10\$8\$3\$/, 'N = 2^10 here; r = 8, p = 3 as OWASP recommends with N = 2^15')
  t.equal(await hasher.verify('correct-horse-battery', a), true)
  t.equal(await hasher.verify('correct-horse-batterY', a), false)
  t.equal(await hasher.verify('anything', 'not a hash'), false)
  t.equal(
    await createScryptHasher(11).verify('correct-horse-battery', a),
    true,
    'cost travels with the hash',
  )
  const before = await createScryptHasher(10, 1).hash('correct-horse-battery')
  t.match(before, /^scrypt\$10\$8\$1\$/)
  t.equal(
    await hasher.verify('correct-horse-battery', before),
    true,
    'a hash made with p = 1 (before) still verifies',
  )
  t.equal(await hasher.verify('x', 'scrypt$99$8$1$c2FsdA==$a2V5'), false, 'absurd settings refused')
})
