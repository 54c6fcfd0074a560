import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RoomAdmin } from '@finchat/chat'

/** Creates the seed rooms; one refused (a bad name, or one that exists) is said why. */
export async function seedRooms(rooms: RoomAdmin, names: string[]) {
  const created: string[] = []
  const refused: string[] = []
  for (const name of names) {
    const result = await rooms.create(name)
    if (result.ok) created.push(name)
    else refused.push(`${name} (${result.problem})`)
  }
  return { created, refused }
}

/** The bot's password: the configured one, else one generated once into the data directory. */
export async function botPassword(dataDir: string, configured?: string): Promise<string> {
  if (configured) return configured
  const file = join(dataDir, 'finbot-password')
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch {
    const password = randomBytes(24).toString('base64url')
    await mkdir(dataDir, { recursive: true })
    await writeFile(file, `${password}\n`, { mode: 0o600 })
    return password
  }
}
