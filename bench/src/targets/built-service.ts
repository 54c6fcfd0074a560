import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '@finchat/testing'

/** The newest modification time of the files under `dir`, 0 if there is none. */
function newestUnder(dir: string): number {
  if (!existsSync(dir)) return 0
  let newest = 0
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

/** The workspace folder of `name` and of every workspace package it depends on. */
function workspaceFolders(folder: string, seen = new Set<string>()): Set<string> {
  seen.add(folder)
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, folder, 'package.json'), 'utf8'))
  for (const [name, version] of Object.entries<string>(manifest.dependencies ?? {})) {
    if (!version.startsWith('workspace:')) continue
    const short = name.replace('@finchat/', '')
    const dependency = ['packages', 'services']
      .map((parent) => `${parent}/${short}`)
      .find((candidate) => existsSync(join(REPO_ROOT, candidate, 'package.json')))
    if (dependency && !seen.has(dependency)) workspaceFolders(dependency, seen)
  }
  return seen
}

/**
 * A service's built entry point (`services/<name>/dist/main.js`), what its Docker image runs:
 * no TypeScript loader, whose transforms (such as naming every function at run time) would be
 * measured too. Refuses a build older than its sources or those of the packages it uses.
 */
export function builtService(name: string): string {
  const stale = [...workspaceFolders(`services/${name}`)].filter(
    (folder) =>
      newestUnder(join(REPO_ROOT, folder, 'src')) > newestUnder(join(REPO_ROOT, folder, 'dist')),
  )
  if (stale.length > 0) {
    throw new Error(
      `the build of ${stale.join(', ')} is missing or older than its sources: run \`pnpm build\` (\`pnpm bench\` does)`,
    )
  }
  return `services/${name}/dist/main.js`
}
