/** Rooms every target has: `room-0` … `room-99`. */
export const BENCH_ROOMS = Array.from({ length: 100 }, (_, i) => `room-${i}`)

/**
 * Settings of the servers under test, on top of the defaults (logs at info, as deployed): limits
 * meant for people
 * (message rate, login failures and registrations per address) lifted, since all clients come from one address
 * and the rate sweep sends faster than a person types; a cheap password hash, since
 * registering thousands of users is setup, not what is measured.
 */
export const SERVER_LIMITS: NodeJS.ProcessEnv = {
  PASSWORD_HASH_COST: '10',
  LOGIN_MAX_FAILURES_PER_IP: '1000000',
  REGISTER_MAX_PER_IP: '1000000',
  CHAT_RATE_PER_SECOND: '1000',
  CHAT_RATE_BURST: '1000',
}
