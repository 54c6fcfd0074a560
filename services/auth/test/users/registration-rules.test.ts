import t from 'tap'
import { validateRegistration } from '../../src/users/registration-rules.js'

const valid = { username: 'alice', email: 'alice@example.com', password: 'correct-horse-battery' }

t.same(validateRegistration(valid), {}, 'a good registration passes')
t.same(validateRegistration({ ...valid, email: '' }), {}, 'email is optional')
t.same(validateRegistration({ ...valid, username: 'a.b+c-d_e@f' }), {}, 'all allowed symbols')
t.same(validateRegistration({ ...valid, username: 'José' }), {}, 'unicode letters')
t.ok(validateRegistration({ ...valid, password: 'alice123' }).password, 'similar to username')
t.ok(validateRegistration({ ...valid, password: 'example.com1' }).password, 'similar to email')
t.notOk(
  validateRegistration({ username: 'al', email: '', password: 'a long and unrelated passphrase' })
    .password,
  'a short name cannot make a long password guessable',
)
t.same(validateRegistration({ ...valid, password: '1234' }).password, [
  'This password is too short. It must contain at least 8 characters.',
  'This password is too common.',
  'This password is entirely numeric.',
])
for (const common of ['zaq12wsx', '1q2w3e4r5t6y', 'CORVETTE']) {
  t.same(
    validateRegistration({ ...valid, password: common }).password,
    ['This password is too common.'],
    `${common}: one of the ~49 000 of a real list, in any case`,
  )
}
for (const email of ['a@b', 'a b@c.de', '@example.com', 'a@.com', 'a@example.']) {
  t.ok(validateRegistration({ ...valid, email }).email, `${email} is not an email`)
}
