export interface JoinedRoom {
  id: number
  name: string
}

/**
 * A user connected to this instance, as the chat's rules see it: who they are, the rooms they
 * are in and a way to answer them. The transport's connection is one.
 */
export interface Member {
  /** This connection of the user, told apart from an earlier or a later one. */
  readonly id: string
  readonly username: string
  readonly userId: number
  /** A bot account (as its token says): only its messages may carry a card. */
  readonly isBot: boolean
  /** Rooms the user has joined, as far as commands are concerned. */
  readonly joined: Map<string, JoinedRoom>
  send(frame: string): void
}
