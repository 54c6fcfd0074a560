import { staleBuilds } from '../../../services/standalone/scripts/build-freshness.js'

/**
 * A service's built entry point (`services/<name>/dist/main.js`), what its Docker image and
 * `pnpm start` run: no TypeScript loader, whose transforms (such as naming every function at run
 * time) would be measured too. Refuses a build older than its sources or those of the packages
 * it uses (the check `pnpm start` makes before it runs, to build them again).
 */
export function builtService(name: string): string {
  const stale = staleBuilds(`services/${name}`)
  if (stale.length > 0) {
    throw new Error(
      `the build of ${stale.join(', ')} is missing or older than its sources: run \`pnpm build\` (\`pnpm bench\` does)`,
    )
  }
  return `services/${name}/dist/main.js`
}
