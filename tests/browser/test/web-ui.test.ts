import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStockBot, type StockBot } from '@finchat/bot'
import { PASSWORD, QUOTE_DATE, REPO_ROOT, startFakeStooq, startStack } from '@finchat/testing'
import type { AxeResults } from 'axe-core'
import { type Browser, chromium, type Locator, type Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { build } from 'vite'

// The original's manual web test, in headless Chromium: two people in two browsers register,
// chat, ask the bot for a quote, leave and log out; an administrator creates a room and gives
// and takes back admin rights. The web UI is built from source for the run and served the way
// `pnpm start` serves it. Every view is checked with axe-core in light and dark mode.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = join(REPO_ROOT, 'artifacts', 'screenshots')
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const PHONE = { width: 390, height: 780 }

if (!existsSync(CHROMIUM)) {
  t.pass(`skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`)
} else {
  await story()
}

async function story() {
  const outDir = await mkdtemp(join(tmpdir(), 'finchat-web-'))
  t.teardown(() => rm(outDir, { recursive: true, force: true }))
  await build({
    root: join(REPO_ROOT, 'packages/web'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  })
  await mkdir(ARTIFACTS, { recursive: true })

  const stack = await startStack(t, { combined: true, webRoot: outDir })
  const server = stack.combined as NonNullable<typeof stack.combined>
  // pnpm start's rooms: three of them overflowed a phone's room strip once.
  await stack.createRooms('friends', 'family', 'investments')
  const stooq = await startFakeStooq(t)
  stooq.quote('aapl.us', '93.42')
  // 40 sessions up to the day before the quote's, the last closing at 92.10: the card says
  // +1.32 (+1.43 %) today and draws the last 30.
  const history = weekdaysBefore(QUOTE_DATE, 40).map((date, i) => ({
    date,
    close: i === 39 ? 92.1 : Math.round((86 + 4 * Math.sin(i / 4) + i * 0.12) * 100) / 100,
  }))
  stooq.history('aapl.us', history)
  // The answer never waits for the history: the first quote comes late, so that it is in.
  stooq.script('aapl.us', { delayMs: 500 })
  const drawn = history.slice(-30).map((day) => day.close)
  await stack.register('finbot')
  // Only bot accounts may send cards; the standalone marks its own bot the same way.
  await stack.accounts.setBot('finbot', true)
  const bot: StockBot = createStockBot(
    {
      server: { host: server.host, httpUrl: server.url, wsUrl: server.wsUrl },
      username: 'finbot',
      password: PASSWORD,
      rooms: ['investments'],
      commands: { kind: 'socket' },
      maxAgeMs: 10_000,
      quotes: { baseUrl: stooq.url, timeoutMs: 2000, retries: 0, retryBaseMs: 50, cacheMs: 0 },
    },
    { logger: quietLogger() },
  )
  await bot.start()
  t.teardown(() => bot.stop())

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  t.teardown(() => browser.close())
  const person = async (width = 1200, height = 800) => {
    const context = await browser.newContext({ viewport: { width, height } })
    const page = await context.newPage()
    await page.goto(server.url)
    return page
  }
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
  const log = (page: Page) => page.getByRole('log', { name: 'Messages in investments' })

  async function register(page: Page, username: string) {
    await page.getByRole('button', { name: 'Create an account' }).click()
    await page.getByLabel('Username').fill(username)
    await page.getByLabel('Email').fill(`${username}@example.com`)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByLabel('Confirm password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Register' }).click()
    await shown(page.getByRole('button', { name: 'Log out', exact: true }))
  }
  async function say(page: Page, text: string) {
    await page.getByLabel('Message', { exact: true }).fill(text)
    await page.getByLabel('Message', { exact: true }).press('Enter')
  }

  const alice = await person()
  const bob = await person(PHONE.width, PHONE.height)

  await t.test('register, with field errors next to the fields', async (t) => {
    await accessible(t, alice, 'the login form')
    await shot(alice, 'login')
    await alice.getByRole('button', { name: 'Create an account' }).click()
    await alice.getByLabel('Username').fill('alice')
    await alice.getByLabel('Password', { exact: true }).fill('12345678')
    await alice.getByLabel('Confirm password').fill('12345678')
    await alice.getByRole('button', { name: 'Register' }).click()
    await contains(alice.locator('#field-password-errors'), 'entirely numeric')
    await accessible(t, alice, 'the register form with its errors')
    await shot(alice, 'register-errors')
    await alice.getByRole('button', { name: 'Log in instead' }).click()
    await register(alice, 'alice')
    await register(bob, 'bob')
    await fitsThePhone(t, bob)
    t.pass('both are in')
  })

  await t.test('both join investments and see each other', async (t) => {
    await alice.getByRole('button', { name: /#investments/ }).click()
    await shown(alice.getByRole('button', { name: 'Leave' }))
    await bob.getByRole('button', { name: /#investments/ }).click()
    await contains(log(alice), 'bob joined')
    await contains(alice.locator('.line.joined').last(), 'bob joined')
    await contains(alice.getByRole('complementary', { name: 'Users' }), 'bob')
    t.pass()
  })

  await t.test('they chat both ways; HTML is shown as text', async (t) => {
    await say(alice, 'Hello Bob')
    await contains(log(bob), 'Hello Bob')
    await say(bob, 'Hi Alice')
    await contains(log(alice), 'Hi Alice')
    await say(bob, '<script>window.pwned = true</script><b>not bold</b>')
    await contains(log(alice), '<script>window.pwned = true</script><b>not bold</b>')
    t.equal(await alice.evaluate(() => (window as { pwned?: boolean }).pwned), undefined)
    t.equal(await log(alice).locator('b').count(), 0, 'no markup from a message')
  })

  await t.test('a stock quote asked by one is answered for both, with a card', async (t) => {
    await say(alice, '/stock=aapl.us')
    await contains(alice.locator('.line.custom').last(), '/stock=aapl.us')
    for (const page of [alice, bob]) {
      await contains(log(page), 'AAPL.US quote is $93.42 per share')
      const card = log(page).locator('.quote-card').last()
      await shown(card)
      t.equal(await card.getAttribute('aria-hidden'), 'true', 'screen readers read the text')
      t.equal(await card.locator('.quote-price').textContent(), '93.42')
      t.match(await card.locator('.quote-move.up').textContent(), '▲ +1.32 (+1.43 %) today')
      const points = await card.locator('polyline').getAttribute('points')
      t.equal(points?.split(' ').length, 30, 'the last 30 closes are drawn')
      const range = await card.locator('.quote-range').textContent()
      t.match(range, `high ${Math.max(...drawn).toFixed(2)}`)
      t.match(range, `low ${Math.min(...drawn).toFixed(2)}`)
    }
    await shot(alice, 'room')
    await shot(bob, 'room-phone')
    await bob.emulateMedia({ colorScheme: 'dark' })
    await shot(bob, 'room-phone-dark')
    await bob.emulateMedia({ colorScheme: null })
    await accessible(t, alice, 'a room')
    await accessible(t, bob, 'a room on a phone')
    await fitsThePhone(t, bob)
  })

  await t.test('unread counts for the rooms not on screen', async (t) => {
    await alice.getByRole('button', { name: 'Server Logs' }).click()
    await shown(alice.getByRole('log', { name: 'Server logs' }))
    await accessible(t, alice, 'the server logs')
    await say(bob, 'while you were away')
    await shown(alice.getByRole('button', { name: /#investments.*1 unread/ }))
    await alice.getByRole('button', { name: /#investments/ }).click()
    await gone(alice.getByRole('button', { name: /#investments.*unread/ }))
    t.pass()
  })

  await t.test('the chat reconnects by itself and fills the gap', async (t) => {
    await server.restart(300)
    await contains(alice.getByRole('status'), 'Connection lost')
    await gone(alice.getByRole('status'), 15_000)
    await gone(bob.getByRole('status'), 15_000)
    await shown(bob.getByRole('button', { name: 'Leave' }))
    await say(bob, 'back after the restart')
    await contains(log(alice), 'back after the restart')
    t.equal(await log(alice).getByText('Hello Bob').count(), 1, 'nothing shown twice')
  })

  await t.test('leaving shows a red notice to the other', async (t) => {
    await bob.getByRole('button', { name: 'Leave' }).click()
    await contains(alice.locator('.line.parted').last(), 'bob left')
    t.pass()
  })

  await t.test('logging out returns to the login form', async (t) => {
    await alice.getByRole('button', { name: 'Log out', exact: true }).click()
    await shown(alice.getByRole('button', { name: 'Log in' }))
    await alice.reload()
    await shown(alice.getByRole('button', { name: 'Log in' }))
    t.pass('and the session is gone')
  })

  await t.test('logging out everywhere ends the session on every device', async (t) => {
    const logIn = async (page: Page) => {
      await page.getByLabel('Username').fill('alice')
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByRole('button', { name: 'Log in' }).click()
      await shown(page.getByRole('button', { name: 'Log out everywhere' }))
    }
    await logIn(alice)
    const phone = await person(390, 780)
    await logIn(phone)
    await alice.getByRole('button', { name: 'Log out everywhere' }).click()
    await shown(alice.getByRole('button', { name: 'Log in' }))
    await phone.reload()
    await shown(phone.getByRole('button', { name: 'Log in' }))
    t.pass("the phone's session is gone too")
  })

  await t.test('an administrator creates a room; users find it with Refresh rooms', async (t) => {
    await stack.register('root')
    await stack.makeAdmin('root')
    const root = await person()
    await root.getByLabel('Username').fill('root')
    await root.getByLabel('Password').fill(PASSWORD)
    await root.getByRole('button', { name: 'Log in' }).click()
    await root.getByRole('link', { name: 'Admin' }).click()
    await root.getByLabel('Room name').fill('newroom')
    await root.getByRole('button', { name: 'Create room' }).click()
    await shown(root.getByRole('button', { name: 'Delete #newroom' }))
    await accessible(t, root, 'the admin page')
    await shot(root, 'admin')
    await bob.getByRole('button', { name: 'Refresh rooms' }).click()
    await shown(bob.getByRole('button', { name: /#newroom/ }))
    await root.getByRole('button', { name: 'Delete #newroom' }).click()
    await root.getByRole('button', { name: 'Yes, delete #newroom' }).click()
    await gone(root.getByRole('button', { name: 'Delete #newroom' }))
    await gone(bob.getByRole('link', { name: 'Admin' }))
    t.pass('and only administrators see the admin page')

    await t.test('admin rights are given and taken back, never from the last one', async (t) => {
      await root.getByRole('button', { name: 'Make bob an administrator' }).click()
      await root.getByRole('button', { name: "Revoke bob's admin rights" }).click()
      await shown(root.getByRole('button', { name: 'Make bob an administrator' }))

      await root.getByRole('button', { name: "Revoke root's admin rights" }).click()
      await root.getByRole('button', { name: 'Yes, revoke my admin rights' }).click()
      await contains(root.getByRole('alert'), 'root is the last administrator')
      await shot(root, 'admin-last-administrator')

      await root.getByRole('button', { name: 'Make bob an administrator' }).click()
      await root.getByRole('button', { name: "Revoke root's admin rights" }).click()
      await root.getByRole('button', { name: 'Yes, revoke my admin rights' }).click()
      await shown(root.getByRole('button', { name: 'Log in' }))
      t.pass("stepping down ends one's own sessions too, and the admin page with them")
    })

    await t.test('an account is marked as a bot and unmarked', async (t) => {
      const admin = await person()
      await admin.getByLabel('Username').fill('bob')
      await admin.getByLabel('Password').fill(PASSWORD)
      await admin.getByRole('button', { name: 'Log in' }).click()
      await admin.getByRole('link', { name: 'Admin' }).click()
      await shown(admin.getByRole('button', { name: 'Unmark finbot as a bot' }))
      await admin.getByRole('button', { name: 'Mark alice as a bot' }).click()
      await shown(admin.getByRole('button', { name: 'Unmark alice as a bot' }))
      await shot(admin, 'admin-bot')
      await admin.getByRole('button', { name: 'Unmark alice as a bot' }).click()
      await shown(admin.getByRole('button', { name: 'Mark alice as a bot' }))
      t.pass()
    })
  })
}

/**
 * axe-core finds no serious or critical violation on `page` as it is, in light and in dark mode
 * (the colours come from prefers-color-scheme).
 */
async function accessible(t: Test, page: Page, view: string) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE)
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme })
    const found = await page.evaluate(async () => {
      const { axe } = window as unknown as { axe: { run(): Promise<AxeResults> } }
      return (await axe.run()).violations
        .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
        .map((violation) => ({
          rule: violation.id,
          help: violation.help,
          where: violation.nodes.map((node) => `${node.target.join(' ')}: ${node.failureSummary}`),
        }))
    })
    t.same(found, [], `${view}, ${colorScheme}: no serious or critical accessibility violation`)
  }
  await page.emulateMedia({ colorScheme: null })
}

/** The page is no wider than a 390 px phone: nothing scrolls sideways. */
async function fitsThePhone(t: Test, page: Page) {
  const { width, outside } = await page.evaluate((phone) => {
    // What sticks out, outermost first: says which part to fix when it fails.
    const outside = [...document.querySelectorAll('body *')]
      .filter((element) => element.getBoundingClientRect().right > phone)
      .slice(0, 5)
      .map((element) => `${element.tagName.toLowerCase()}.${element.className}`)
    return { width: document.documentElement.scrollWidth, outside }
  }, PHONE.width)
  t.ok(width <= PHONE.width, `the page is ${width} px wide on a ${PHONE.width} px phone`, {
    outside,
  })
}

/** The `count` weekdays before `day` (YYYY-MM-DD), oldest first. */
function weekdaysBefore(day: string, count: number): string[] {
  const days: string[] = []
  const at = new Date(`${day}T00:00:00Z`)
  while (days.length < count) {
    at.setUTCDate(at.getUTCDate() - 1)
    if (at.getUTCDay() !== 0 && at.getUTCDay() !== 6) days.unshift(at.toISOString().slice(0, 10))
  }
  return days
}

/** Waits until the first element `locator` finds is visible. */
function shown(locator: Locator, timeout = 10_000) {
  return locator.first().waitFor({ state: 'visible', timeout })
}

/** Waits until `locator` finds nothing. */
function gone(locator: Locator, timeout = 10_000) {
  return locator.first().waitFor({ state: 'detached', timeout })
}

/** Waits until some element inside `locator` shows `text`. */
function contains(locator: Locator, text: string, timeout = 10_000) {
  return locator.getByText(text).first().waitFor({ state: 'visible', timeout })
}

function quietLogger() {
  const noop = () => {}
  const logger = {
    level: 'silent',
    fatal: noop,
    error: noop,
    warn: noop,
    info: noop,
    debug: noop,
    trace: noop,
    silent: noop,
    child: () => logger,
  }
  return logger as unknown as Parameters<typeof createStockBot>[1]['logger']
}
