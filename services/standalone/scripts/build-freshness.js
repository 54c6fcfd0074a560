// Plain JavaScript, so that `pnpm start` can check its build before there is one to run.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * The newest modification time of the files under `dir` (or of the file `dir`), 0 if there is none.
 * @param {string} dir
 */
function newestUnder(dir) {
  if (!existsSync(dir)) return 0
  const self = statSync(dir)
  if (self.isFile()) return self.mtimeMs
  let newest = 0
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
    }
  }
  return newest
}

/**
 * The workspace folder `folder` (such as `services/chat`) and those of every workspace package
 * it depends on, relative to the repository's root.
 * @param {string} folder
 * @param {string} [root] the repository (or a copy of its layout)
 * @param {Set<string>} [seen]
 * @returns {Set<string>}
 */
export function workspaceFolders(folder, root = REPO_ROOT, seen = new Set()) {
  seen.add(folder)
  const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8'))
  /** @type {Record<string, string>} */
  const dependencies = manifest.dependencies ?? {}
  for (const [name, version] of Object.entries(dependencies)) {
    if (!version.startsWith('workspace:')) continue
    const short = name.replace('@finchat/', '')
    const dependency = ['packages', 'services']
      .map((parent) => `${parent}/${short}`)
      .find((candidate) => existsSync(join(root, candidate, 'package.json')))
    if (dependency && !seen.has(dependency)) workspaceFolders(dependency, root, seen)
  }
  return seen
}

/**
 * The folders among `folder` and its workspace dependencies whose build (dist) is missing or
 * older than their sources (src): what must be built again before `folder`'s dist can run.
 * @param {string} folder
 * @param {string} [root] the repository (or a copy of its layout)
 * @returns {string[]}
 */
export function staleBuilds(folder, root = REPO_ROOT) {
  return [...workspaceFolders(folder, root)].filter(
    (each) => newestUnder(join(root, each, 'src')) > newestUnder(join(root, each, 'dist')),
  )
}

/**
 * Whether the web UI's bundle (packages/web/dist, which `pnpm start` serves) is missing or older
 * than what it is made of: its sources and page, and the protocol package's sources, which Vite
 * bundles from source.
 * @param {string} [root] the repository (or a copy of its layout)
 */
export function webUiStale(root = REPO_ROOT) {
  const inputs = ['packages/web/src', 'packages/web/index.html', 'packages/protocol/src']
  const newestInput = Math.max(...inputs.map((input) => newestUnder(join(root, input))))
  return newestInput > newestUnder(join(root, 'packages/web/dist'))
}
