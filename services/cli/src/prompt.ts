import { stdin, stdout } from 'node:process'
import { createInterface } from 'node:readline/promises'
import { Writable } from 'node:stream'

/** Asks one question on the terminal; `secret` hides what is typed. */
export async function ask(question: string, secret = false): Promise<string> {
  let muted = false
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) stdout.write(chunk)
      done()
    },
  })
  const rl = createInterface({ input: stdin, output, terminal: stdin.isTTY === true })
  try {
    const answer = rl.question(question)
    muted = secret
    return (await answer).trim()
  } finally {
    if (secret) stdout.write('\n')
    rl.close()
  }
}
