import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'
import { staleBuilds, workspaceFolders } from '../../scripts/build-freshness.js'

// What `pnpm start` (and the bench) decide to build again, on a workspace laid out as this one:
// a service using a package that uses another, a third package the service does not use.

const root = await mkdtemp(join(tmpdir(), 'finchat-freshness-'))
t.teardown(() => rm(root, { recursive: true, force: true }))

async function file(path: string, secondsAgo: number, text = '') {
  await mkdir(dirname(join(root, path)), { recursive: true })
  await writeFile(join(root, path), text)
  const when = new Date(Date.now() - secondsAgo * 1000)
  await utimes(join(root, path), when, when)
}

async function manifest(folder: string, dependencies: Record<string, string>) {
  await file(`${folder}/package.json`, 100, JSON.stringify({ dependencies }))
}

await manifest('services/app', { '@finchat/kit': 'workspace:*', fastify: '^5.0.0' })
await manifest('packages/kit', { '@finchat/db': 'workspace:*' })
await manifest('packages/db', {})
await manifest('packages/unused', {})
// Sources checked out, then built (as `pnpm install` does), the build newer than each source.
for (const folder of ['services/app', 'packages/kit', 'packages/db', 'packages/unused']) {
  await file(`${folder}/src/index.ts`, 60)
  await file(`${folder}/src/deep/more.ts`, 50)
  await file(`${folder}/dist/index.js`, 40)
  await file(`${folder}/dist/deep/more.js`, 40)
}

t.test('what is built again, after what', async (t) => {
  t.same(
    [...workspaceFolders('services/app', root)].sort(),
    ['packages/db', 'packages/kit', 'services/app'],
    "a service's workspace packages, those of its packages too; not the registry's",
  )
  t.same(staleBuilds('services/app', root), [], 'a fresh build runs as it is')

  await file('packages/db/src/deep/more.ts', 10)
  t.same(
    staleBuilds('services/app', root),
    ['packages/db'],
    "an edited source, however deep and however far down the service's packages, stales its package only",
  )

  await file('packages/db/dist/deep/more.js', 5)
  await file('packages/unused/src/index.ts', 1)
  t.same(
    staleBuilds('services/app', root),
    [],
    'rebuilt, it is fresh; a package not used is not looked at',
  )

  await rm(join(root, 'packages/kit/dist'), { recursive: true })
  t.same(staleBuilds('services/app', root), ['packages/kit'], 'a package never built is stale')
})
