import type { ProfileResponse } from '@finchat/protocol'
import { useEffect, useState } from 'preact/hooks'
import { api } from './api/http-api.js'
import { AdminView } from './views/admin-view.js'
import { AuthView } from './views/auth-view.js'
import { ChatView } from './views/chat-view.js'

/** Signed out: the login and register forms. Signed in: the chat, or the admin page (#admin). */
export function App() {
  const [profile, setProfile] = useState<ProfileResponse | null | undefined>(undefined)
  const [page, setPage] = useState(location.hash)

  useEffect(() => {
    api.session().then(setProfile, () => setProfile(null))
    const onHash = () => setPage(location.hash)
    addEventListener('hashchange', onHash)
    return () => removeEventListener('hashchange', onHash)
  }, [])

  if (profile === undefined) return <p class="loading">Loading…</p>
  if (profile === null) return <AuthView onSignedIn={setProfile} />

  const leave = (end: () => Promise<unknown>) => async () => {
    await end().catch(() => {})
    location.hash = ''
    setProfile(null)
  }
  const logOut = leave(api.logOut)
  const logOutEverywhere = leave(api.logOutEverywhere)
  // A demotion ends one's sessions too: the server says what is left (the login form, then).
  const demoted = () => {
    location.hash = ''
    api.session().then(setProfile, () => setProfile(null))
  }
  if (page === '#admin' && profile.is_admin)
    return <AdminView profile={profile} onLogOut={logOut} onDemoted={demoted} />
  return (
    <ChatView
      profile={profile}
      onLogOut={logOut}
      onLogOutEverywhere={logOutEverywhere}
      onSessionEnded={() => setProfile(null)}
    />
  )
}
