import type { FieldErrors } from '@finchat/kit'
import { dictionary } from '@zxcvbn-ts/language-common'

export const USERNAME_MAX = 150
export const PASSWORD_MIN = 8
export const PASSWORD_MAX = 128
export const EMAIL_MAX = 254

const USERNAME_PATTERN = /^[\p{L}\p{N}_.@+-]+$/u
// The shape Django's EmailValidator accepts, simplified: one @, a dotted domain, no spaces.
const EMAIL_PATTERN =
  /^[^\s@"(),:;<>[\\\]]+@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+[\p{L}]{2,}$/u

/**
 * zxcvbn-ts's list of common passwords (about 49 000, from breach corpora), compared in lower
 * case as Django's CommonPasswordValidator does; built on first use.
 */
let commonPasswords: Set<string> | undefined
const isCommon = (password: string) => {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()))
  return commonPasswords.has(password.toLowerCase())
}

export const MESSAGES = {
  blank: 'This field may not be blank.',
  usernameInvalid:
    'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.',
  usernameTaken: 'A user with that username already exists.',
  emailInvalid: 'Enter a valid email address.',
  emailTaken: 'A user with that email already exists.',
  tooLong: (max: number) => `Ensure this field has no more than ${max} characters.`,
  passwordShort: `This password is too short. It must contain at least ${PASSWORD_MIN} characters.`,
  passwordNumeric: 'This password is entirely numeric.',
  passwordCommon: 'This password is too common.',
  passwordSimilar: (what: string) => `The password is too similar to the ${what}.`,
} as const

/** difflib.SequenceMatcher.quick_ratio, as Django's similarity validator uses it. */
function quickRatio(a: string, b: string): number {
  const counts = new Map<string, number>()
  for (const ch of b) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  let matches = 0
  for (const ch of a) {
    const left = counts.get(ch) ?? 0
    if (left > 0) {
      matches++
      counts.set(ch, left - 1)
    }
  }
  const length = [...a].length + [...b].length
  return length === 0 ? 1 : (2 * matches) / length
}

const MAX_SIMILARITY = 0.7

function tooSimilar(password: string, value: string): boolean {
  if (!value) return false
  const pwd = password.toLowerCase()
  const lower = value.toLowerCase()
  for (const part of [...lower.split(/[^\p{L}\p{N}_]+/u), lower]) {
    if (!part) continue
    // Django skips parts much shorter than the password: they cannot make it guessable.
    if (pwd.length >= 10 * part.length && part.length < (MAX_SIMILARITY / 2) * pwd.length) continue
    if (quickRatio(pwd, part) >= MAX_SIMILARITY) return true
  }
  return false
}

function add(errors: FieldErrors, field: string, message: string) {
  const list = errors[field] ?? []
  list.push(message)
  errors[field] = list
}

export interface Registration {
  username: string
  email: string
  password: string
}

/** Field rules of the original service (Django's validators); uniqueness is checked apart. */
export function validateRegistration({ username, email, password }: Registration): FieldErrors {
  const errors: FieldErrors = {}
  if (username === '') add(errors, 'username', MESSAGES.blank)
  else if (username.length > USERNAME_MAX) add(errors, 'username', MESSAGES.tooLong(USERNAME_MAX))
  else if (!USERNAME_PATTERN.test(username)) add(errors, 'username', MESSAGES.usernameInvalid)

  if (email.length > EMAIL_MAX) add(errors, 'email', MESSAGES.tooLong(EMAIL_MAX))
  else if (email !== '' && !EMAIL_PATTERN.test(email)) add(errors, 'email', MESSAGES.emailInvalid)

  if (password === '') add(errors, 'password', MESSAGES.blank)
  else if (password.length > PASSWORD_MAX) add(errors, 'password', MESSAGES.tooLong(PASSWORD_MAX))
  else {
    if (tooSimilar(password, username))
      add(errors, 'password', MESSAGES.passwordSimilar('username'))
    else if (tooSimilar(password, email)) {
      add(errors, 'password', MESSAGES.passwordSimilar('email address'))
    }
    if (password.length < PASSWORD_MIN) add(errors, 'password', MESSAGES.passwordShort)
    if (isCommon(password)) add(errors, 'password', MESSAGES.passwordCommon)
    if (/^\d+$/.test(password)) add(errors, 'password', MESSAGES.passwordNumeric)
  }
  return errors
}
