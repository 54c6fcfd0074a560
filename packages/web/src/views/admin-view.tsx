import type { ProfileResponse, Room, UserSummary } from '@finchat/protocol'
import { useEffect, useState } from 'preact/hooks'
import { api, RequestError } from '../api/http-api.js'

/**
 * Rooms (create, delete after confirming) and users (grant or revoke admin, one's own rights
 * after confirming; mark or unmark as a bot account), for administrators.
 */
export function AdminView(props: {
  profile: ProfileResponse
  onLogOut(): void
  /** One's own sessions ended: admin rights revoked, or the account marked as a bot. */
  onDemoted(): void
}) {
  const [rooms, setRooms] = useState<Room[]>([])
  const [users, setUsers] = useState<UserSummary[]>([])
  const [error, setError] = useState('')
  const [confirming, setConfirming] = useState<string | undefined>()
  const [confirmingSelf, setConfirmingSelf] = useState(false)

  const guard = async (work: () => Promise<unknown>) => {
    setError('')
    try {
      await work()
    } catch (caught) {
      setError(caught instanceof RequestError ? caught.message : String(caught))
    }
  }
  const reload = () =>
    guard(async () => {
      setRooms((await api.rooms()).rooms)
      setUsers((await api.users()).users)
    })
  useEffect(() => {
    void reload()
  }, [])

  async function create(event: Event) {
    event.preventDefault()
    const form = event.currentTarget as HTMLFormElement
    const name = String(new FormData(form).get('name') ?? '').trim()
    await guard(async () => {
      await api.createRoom(name)
      form.reset()
      await reload()
    })
  }

  return (
    <div class="admin">
      <header class="topbar">
        <h1>Financial Chat · Admin</h1>
        <span class="me">{props.profile.username}</span>
        <a class="button secondary" href="#chat">
          Back to chat
        </a>
        <button type="button" class="secondary" onClick={props.onLogOut}>
          Log out
        </button>
      </header>
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      <section aria-labelledby="rooms-title">
        <h2 id="rooms-title">Rooms</h2>
        <form class="inline" onSubmit={create}>
          <label for="room-name">Room name</label>
          <input id="room-name" name="name" required maxLength={50} />
          <button type="submit">Create room</button>
        </form>
        <ul class="admin-list">
          {rooms.map((room) => (
            <li key={room.name}>
              <span>#{room.name}</span>
              {confirming === room.name ? (
                <span class="confirm">
                  Delete #{room.name}? Its members are removed and its history is lost.{' '}
                  <button
                    type="button"
                    class="danger"
                    onClick={() =>
                      guard(async () => {
                        setConfirming(undefined)
                        await api.deleteRoom(room.name)
                        await reload()
                      })
                    }
                  >
                    Yes, delete #{room.name}
                  </button>{' '}
                  <button type="button" class="secondary" onClick={() => setConfirming(undefined)}>
                    Cancel
                  </button>
                </span>
              ) : (
                <button type="button" class="secondary" onClick={() => setConfirming(room.name)}>
                  Delete #{room.name}
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        <ul class="admin-list">
          {users.map((user) => (
            <li key={user.id}>
              <span>
                {user.username}
                {user.email && <span class="muted"> · {user.email}</span>}
              </span>
              <span class="inline">
                {user.is_admin ? (
                  <span>
                    <span class="muted">administrator</span>{' '}
                    {user.id === props.profile.id && confirmingSelf ? (
                      <span class="confirm">
                        Revoke your own admin rights? You are logged out everywhere.{' '}
                        <button
                          type="button"
                          class="danger"
                          onClick={() =>
                            guard(async () => {
                              setConfirmingSelf(false)
                              await api.revokeAdmin(user.username)
                              props.onDemoted()
                            })
                          }
                        >
                          Yes, revoke my admin rights
                        </button>{' '}
                        <button
                          type="button"
                          class="secondary"
                          onClick={() => setConfirmingSelf(false)}
                        >
                          Cancel
                        </button>
                      </span>
                    ) : (
                      <button
                        type="button"
                        class="secondary"
                        onClick={() =>
                          user.id === props.profile.id
                            ? setConfirmingSelf(true)
                            : guard(async () => {
                                await api.revokeAdmin(user.username)
                                await reload()
                              })
                        }
                      >
                        Revoke {user.username}'s admin rights
                      </button>
                    )}
                  </span>
                ) : (
                  <button
                    type="button"
                    class="secondary"
                    onClick={() =>
                      guard(async () => {
                        await api.grantAdmin(user.username)
                        await reload()
                      })
                    }
                  >
                    Make {user.username} an administrator
                  </button>
                )}
                <BotToggle
                  user={user}
                  onChange={(mark) =>
                    guard(async () => {
                      await (mark ? api.markBot : api.unmarkBot)(user.username)
                      // Marking ends the account's sessions: one's own too.
                      if (user.id === props.profile.id) props.onDemoted()
                      else await reload()
                    })
                  }
                />
              </span>
            </li>
          ))}
        </ul>
      </section>
    </div>
  )
}

/** Bot accounts may send cards (the stock bot's quotes); nobody else may. */
function BotToggle(props: { user: UserSummary; onChange(mark: boolean): void }) {
  const { user } = props
  if (user.is_bot) {
    return (
      <span>
        <span class="muted">bot account</span>{' '}
        <button type="button" class="secondary" onClick={() => props.onChange(false)}>
          Unmark {user.username} as a bot
        </button>
      </span>
    )
  }
  return (
    <button type="button" class="secondary" onClick={() => props.onChange(true)}>
      Mark {user.username} as a bot
    </button>
  )
}
