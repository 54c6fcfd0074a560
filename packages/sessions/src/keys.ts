import { generateKeyPairSync } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface SigningKeys {
  /** PEM, held by auth only */
  privateKey: string
  /** PEM, enough for every other service to verify tokens */
  publicKey: string
}

export function generateSigningKeys(): SigningKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}

/**
 * Keys kept in a data directory, made on first use: the development and standalone path, where
 * nobody should have to create a key pair by hand. Production passes keys in the environment.
 */
export async function loadOrCreateKeyFiles(dir: string): Promise<SigningKeys> {
  const privatePath = join(dir, 'jwt-ed25519.key')
  const publicPath = join(dir, 'jwt-ed25519.pub')
  try {
    return {
      privateKey: await readFile(privatePath, 'utf8'),
      publicKey: await readFile(publicPath, 'utf8'),
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const keys = generateSigningKeys()
  await mkdir(dir, { recursive: true })
  try {
    await writeFile(privatePath, keys.privateKey, { mode: 0o600, flag: 'wx' })
    await writeFile(publicPath, keys.publicKey, { flag: 'wx' })
  } catch (error) {
    // Another service of the same development setup made them first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    await new Promise((resolve) => setTimeout(resolve, 50))
    return loadOrCreateKeyFiles(dir)
  }
  return keys
}
