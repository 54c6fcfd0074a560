// Prints a new Ed25519 key pair as .env lines (JWT_PRIVATE_KEY and JWT_PUBLIC_KEY), quoted so
// that docker compose reads the PEM's line breaks: put them in .env in place of the CHANGE_ME
// lines. Auth signs tokens with the private key; every service verifies them with the public one.
import { generateKeyPairSync } from 'node:crypto'

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const pem = (key, type) => key.export({ type, format: 'pem' }).trim()
process.stdout.write(`JWT_PRIVATE_KEY="${pem(privateKey, 'pkcs8')}"\n`)
process.stdout.write(`JWT_PUBLIC_KEY="${pem(publicKey, 'spki')}"\n`)
