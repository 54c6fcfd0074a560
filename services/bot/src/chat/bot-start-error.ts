/** Exit statuses from BSD sysexits, so that a supervisor can tell a typo from an outage. */
export const ExitCode = {
  /** EX_UNAVAILABLE: the server cannot be reached or does not behave like a chat server. */
  unavailable: 69,
  /** EX_TEMPFAIL: the account is in use; retrying later may work. */
  inUse: 75,
  /** EX_NOPERM: the credentials were refused. */
  credentials: 77,
  /** EX_CONFIG: the configuration names nothing usable (no valid room). */
  config: 78,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** The bot cannot start as configured: main prints the message as one line and exits. */
export class BotStartError extends Error {
  override readonly name = 'BotStartError'

  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message)
  }
}
