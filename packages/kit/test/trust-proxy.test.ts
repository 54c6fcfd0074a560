import type { IncomingMessage } from 'node:http'
import t from 'tap'
import { clientAddress, parseTrustProxy, withoutSecrets } from '../src/index.js'

// Whose X-Forwarded-For a service believes, as an operator writes it in TRUST_PROXY.

const behind = (peer: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
    headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
  }) as unknown as IncomingMessage

t.test('unset, false or 0: the client is the socket peer, whatever it writes', async (t) => {
  for (const value of [undefined, '', 'false', '0']) {
    const trust = parseTrustProxy(value)
    t.equal(trust, false)
    t.equal(clientAddress(behind('203.0.113.9', '6.6.6.6'), trust), '203.0.113.9')
  }
})

t.test('a number of proxies: that many nearest hops are believed, no more', async (t) => {
  const one = parseTrustProxy('1')
  // The edge set the header to the client it saw; a client's own entries are further left.
  t.equal(clientAddress(behind('10.0.0.2', '6.6.6.6, 198.51.100.7'), one), '198.51.100.7')
  t.equal(clientAddress(behind('10.0.0.2'), one), '10.0.0.2')
  const two = parseTrustProxy('2')
  t.equal(clientAddress(behind('10.0.0.3', '6.6.6.6, 198.51.100.7, 10.0.0.2'), two), '198.51.100.7')
})

t.test('addresses: only those peers are believed', async (t) => {
  const trust = parseTrustProxy('127.0.0.1, 10.0.0.0/8')
  t.equal(clientAddress(behind('127.0.0.1', '198.51.100.7'), trust), '198.51.100.7')
  t.equal(clientAddress(behind('10.1.2.3', '198.51.100.7'), trust), '198.51.100.7')
  t.equal(clientAddress(behind('127.0.0.5', '6.6.6.6'), trust), '127.0.0.5', 'not a listed peer')
  t.equal(clientAddress(behind('127.0.0.1', '6.6.6.6'), parseTrustProxy('loopback')), '6.6.6.6')
})

t.test('true, and what is no address, are refused naming the variable', async (t) => {
  t.throws(() => parseTrustProxy('true'), { name: 'ConfigError', message: /TRUST_PROXY=true/ })
  t.throws(() => parseTrustProxy('the edge'), { name: 'ConfigError', message: /TRUST_PROXY/ })
})

t.test('credentials in a URL are redacted for logs, the rest kept', async (t) => {
  t.equal(withoutSecrets('/ws/chat?token=abc.def&x=1'), '/ws/chat?token=[redacted]&x=1')
  t.equal(withoutSecrets('/ws/chat?x=1&TOKEN=abc'), '/ws/chat?x=1&TOKEN=[redacted]')
  t.equal(withoutSecrets('/rooms?tokenish=1'), '/rooms?tokenish=1')
})
