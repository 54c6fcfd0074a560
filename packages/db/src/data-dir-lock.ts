import { randomBytes } from 'node:crypto'
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises'

/** Who holds a PGlite data directory, as its lock file says. */
export interface DataDirHolder {
  pid: number
  /** Present once the holder serves the database over the wire (embedded-server.ts). */
  url?: string
}

/** The data directory is open in another live process: opening it too would corrupt it. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The database in ${dataDir} is in use by process ${pid} (another \`pnpm start\`?): ` +
        'stop it, or set DATA_DIR to another directory.',
    )
    this.name = 'DataDirInUseError'
  }
}

export interface DataDirLock {
  /** Tells the other processes where the database is served. */
  publish(url: string): Promise<void>
  release(): Promise<void>
}

const lockPath = (dataDir: string) => `${dataDir}.lock`

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function writeAtomically(path: string, holder: DataDirHolder): Promise<string> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}`
  await writeFile(temporary, JSON.stringify(holder), { mode: 0o600 })
  return temporary
}

/** The live holder of the directory, if any: a lock left by a killed process holds nothing. */
export async function findDataDirHolder(dataDir: string): Promise<DataDirHolder | undefined> {
  let holder: DataDirHolder
  try {
    holder = JSON.parse(await readFile(lockPath(dataDir), 'utf8')) as DataDirHolder
  } catch {
    return undefined
  }
  return isAlive(holder.pid) ? holder : undefined
}

/**
 * Takes the directory for this process, or throws DataDirInUseError naming the live holder.
 * The lock is a file of the holder's pid, created whole (a link of a written file, so nobody
 * reads it half written); one whose process is gone (SIGKILL, a crash) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = lockPath(dataDir)
  const mine: DataDirHolder = { pid: process.pid }
  for (let attempt = 0; ; attempt++) {
    const temporary = await writeAtomically(path, mine)
    try {
      await link(temporary, path)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = await findDataDirHolder(dataDir)
      if (holder || attempt > 0) throw new DataDirInUseError(dataDir, holder?.pid ?? 0)
      await rm(path, { force: true })
    } finally {
      await rm(temporary, { force: true })
    }
  }
  return {
    async publish(url) {
      await rename(await writeAtomically(path, { ...mine, url }), path)
    },
    async release() {
      const holder = await findDataDirHolder(dataDir)
      if (holder?.pid === process.pid) await rm(path, { force: true })
    },
  }
}
