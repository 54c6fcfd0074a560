// UTF-16 code units 0xD800–0xDFFF (surrogates) stand for code points above 0xFFFF, so they must
// sort after 0xE000–0xFFFF; shifting them is enough to compare code points unit by unit.
const codePointRank = (unit: number) =>
  unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit

/**
 * The protocol's name order (rooms in `list`, users in `status`): by Unicode code point, a plain
 * string comparison with no locale collation. JavaScript's `<` compares UTF-16 code units,
 * which puts characters beyond U+FFFF before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}
