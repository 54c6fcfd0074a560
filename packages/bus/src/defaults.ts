export const defaultMaxLen = 100_000
export const defaultCount = 1000
export const defaultClaimIdleMs = 30_000

/** How often a consumer looks for idle entries: often enough to claim them soon after they qualify. */
export function claimInterval(claimIdleMs: number): number {
  return Math.max(10, claimIdleMs / 2)
}
