import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'
import { staleBuilds, webUiStale, workspaceFolders } from '../../scripts/build-freshness.js'

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

t.test(
  "the web UI's bundle, made from its sources, its page and the protocol's sources",
  async (t) => {
    const web = await mkdtemp(join(tmpdir(), 'finchat-freshness-web-'))
    t.teardown(() => rm(web, { recursive: true, force: true }))
    const at = async (path: string, secondsAgo: number) => {
      await mkdir(dirname(join(web, path)), { recursive: true })
      await writeFile(join(web, path), '')
      const when = new Date(Date.now() - secondsAgo * 1000)
      await utimes(join(web, path), when, when)
    }
    await at('packages/web/src/main.tsx', 60)
    await at('packages/web/index.html', 60)
    await at('packages/protocol/src/cards.ts', 60)
    t.ok(webUiStale(web), 'never built: stale')
    await at('packages/web/dist/assets/index.js', 40)
    t.notOk(webUiStale(web), 'built after its sources: fresh')
    await at('packages/protocol/src/cards.ts', 30)
    t.ok(webUiStale(web), 'a protocol source edited since (Vite bundles it): stale')
    await at('packages/web/dist/assets/index.js', 20)
    await at('packages/web/index.html', 10)
    t.ok(webUiStale(web), 'the page edited since: stale')
  },
)
