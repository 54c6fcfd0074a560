import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type AuthDb, createUsersRepository, type PasswordHasher } from '@finchat/auth'
import { type ChatDb, createRoomsRepository, DuplicateRoomError } from '@finchat/chat'

/** Creates the seed rooms; one that exists already is left as it is. */
export async function seedRooms(db: ChatDb, names: string[]): Promise<string[]> {
  const rooms = createRoomsRepository(db)
  const created: string[] = []
  for (const name of names) {
    try {
      await rooms.create(name)
      created.push(name)
    } catch (error) {
      if (!(error instanceof DuplicateRoomError)) throw error
    }
  }
  return created
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

/** The standalone process owns its bot's account: it is created, or given `password`. */
export async function ensureBotAccount(
  db: AuthDb,
  passwords: PasswordHasher,
  username: string,
  password: string,
): Promise<void> {
  const users = createUsersRepository(db)
  const existing = await users.findByUsername(username)
  if (!existing) {
    await users.insert({ username, email: '', password_hash: await passwords.hash(password) })
  } else if (!(await passwords.verify(password, existing.password_hash))) {
    await users.setPassword(existing.id, await passwords.hash(password))
  }
}
