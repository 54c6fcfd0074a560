import type { User } from '../db/schema.js'

/** What a user sees of their own account (`/profile`, `/session`). */
export const toProfile = (user: User) => ({
  id: user.id,
  username: user.username,
  email: user.email,
  is_admin: user.is_admin,
  is_bot: user.is_bot,
})

/** What an administrator sees of each account (`/admin/users`). */
export const toUserSummary = (user: User) => ({
  ...toProfile(user),
  created_at: user.created_at.toISOString(),
})
