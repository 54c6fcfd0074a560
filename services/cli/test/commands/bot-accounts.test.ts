import t from 'tap'
import { cliOnOwnDatabase } from '../cli-process.js'

// Apart from users.commands.test.ts: each command is a process of its own, and one file of
// them all would outlast tap's timeout on a busy machine.

t.test('an operator marks and unmarks bot accounts', async (t) => {
  const { admin } = await cliOnOwnDatabase(t)
  t.equal(
    (
      await admin(
        'create-superuser',
        '--no-input',
        '--username',
        'quotes',
        '--password',
        'a-strong-secret',
      )
    ).code,
    0,
  )
  const marked = await admin('users', 'mark-bot', 'Quotes')
  t.equal(marked.code, 0, marked.stderr)
  t.match(marked.stdout, /^quotes is now a bot account \(effective from its next login/)
  t.match((await admin('users', 'list')).stdout, /^quotes\t-\tadmin\tbot$/m)
  const unmarked = await admin('users', 'unmark-bot', 'quotes')
  t.equal(unmarked.code, 0, unmarked.stderr)
  t.match(unmarked.stdout, /quotes is no longer a bot account/)
  t.match((await admin('users', 'list')).stdout, /^quotes\t-\tadmin$/m)
  const nobody = await admin('users', 'mark-bot', 'nobody')
  t.equal(nobody.code, 1)
  t.equal(nobody.stderr, 'no user named nobody\n')
})
