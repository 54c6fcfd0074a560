// `pnpm start` runs the standalone from its build (services/standalone/dist), which `pnpm install`
// makes. Sources edited since are built again here first, those that changed only: a TypeScript
// loader would cost the running server memory and start time (`pnpm --filter
// @finchat/standalone dev` runs the sources, in watch mode).
import { spawnSync } from 'node:child_process'
import { REPO_ROOT, staleBuilds } from './build-freshness.js'

const stale = staleBuilds('services/standalone')
if (stale.length > 0) {
  process.stdout.write(`Building ${stale.join(', ')} (changed since the last build)…\n`)
  // Without type checking, as tsx ran them (`pnpm typecheck` checks): quicker, never held up.
  const args = [...stale.flatMap((folder) => ['--filter', `./${folder}`]), 'build', '--noCheck']
  // The pnpm running this script, which need not be on PATH (`corepack pnpm start`).
  const pnpm = process.env.npm_execpath ?? 'pnpm'
  const [command, ...prefix] = /\.[cm]?js$/.test(pnpm) ? [process.execPath, pnpm] : [pnpm]
  const built = spawnSync(command, [...prefix, ...args], { cwd: REPO_ROOT, stdio: 'inherit' })
  if (built.status !== 0) {
    process.stderr.write(
      'The build failed (above). Fix it, or run the sources: pnpm --filter @finchat/standalone dev\n',
    )
    process.exit(built.status ?? 1)
  }
}
