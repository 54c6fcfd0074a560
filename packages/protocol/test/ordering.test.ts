import t from 'tap'
import { compareCodePoints } from '../src/index.js'

t.test('names sort by code point, not by locale or UTF-16 unit', async (t) => {
  const names = ['b', 'a-1', '\u{1D49C}lice', 'Zeta', '\uFF5Aed', 'B', 'ab', 'a']
  t.same(names.sort(compareCodePoints), [
    'B',
    'Zeta',
    'a',
    'a-1',
    'ab',
    'b',
    '\uFF5Aed',
    '\u{1D49C}lice',
  ])
  t.ok(compareCodePoints('\uFF5A', '\u{1F600}') < 0, 'U+FF5A before U+1F600, unlike `<`')
  t.equal(compareCodePoints('same', 'same'), 0)
})
