// `pnpm start` runs the standalone from its build (services/standalone/dist), and `pnpm admin` the
// CLI from its own (services/cli/dist), which `pnpm install` makes. Sources edited since are built
// again here first, those that changed only: a TypeScript loader would cost the running server
// memory and start time, and each admin command seconds (`pnpm --filter @finchat/standalone dev`
// runs the sources, in watch mode). The folder to check is the argument, the standalone's by
// default. What this says goes to stderr, so that an admin command's output stays its own.
import { spawnSync } from 'node:child_process'
import { REPO_ROOT, staleBuilds, webUiStale } from './build-freshness.js'

const folder = process.argv[2] ?? 'services/standalone'
// The pnpm running this script, which need not be on PATH (`corepack pnpm start`).
const pnpm = process.env.npm_execpath ?? 'pnpm'
const [command, ...prefix] = /\.[cm]?js$/.test(pnpm) ? [process.execPath, pnpm] : [pnpm]

/**
 * Runs `pnpm <args>` at the root, its output on stderr; on failure says so, with what else to do,
 * and exits.
 * @param {string} what
 * @param {string[]} args
 * @param {string} otherwise
 */
function build(what, args, otherwise) {
  process.stderr.write(`Building ${what} (changed since the last build)…\n`)
  const built = spawnSync(command, [...prefix, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', process.stderr, process.stderr],
  })
  if (built.status !== 0) {
    process.stderr.write(`The build failed (above). Fix it, or ${otherwise}\n`)
    process.exit(built.status ?? 1)
  }
}

const stale = staleBuilds(folder)
if (stale.length > 0) {
  // Without type checking, as tsx ran them (`pnpm typecheck` checks): quicker, never held up.
  build(
    stale.join(', '),
    [...stale.flatMap((each) => ['--filter', `./${each}`]), 'build', '--noCheck'],
    `run the sources: pnpm --filter @finchat/${folder.split('/').pop()} dev`,
  )
}
// The standalone serves the web UI's bundle unless WEB_ROOT names another: after a pull without
// `pnpm install`, the old bundle would be served against the new server.
if (folder === 'services/standalone' && !process.env.WEB_ROOT && webUiStale()) {
  build('packages/web', ['--filter', './packages/web', 'build'], 'set WEB_ROOT to a built UI')
}
