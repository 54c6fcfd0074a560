interface Waiter<F> {
  accept: (frame: F) => boolean
  resolve: (frame: F) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

/**
 * Pending "the next frame that …" promises, offered each frame in the order they were asked
 * for: the typed client's and the bench's lean client's, one implementation.
 */
export class FrameWaiters<F> {
  private readonly waiting: Waiter<F>[] = []

  get size() {
    return this.waiting.length
  }

  /** The first frame offered from now that `accept` takes; rejects after `timeoutMs`. */
  wait(
    accept: (frame: F) => boolean,
    timeoutMs: number,
    timedOut: () => string = () => `no expected frame within ${timeoutMs} ms`,
  ): Promise<F> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<F> = {
        accept,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1)
          reject(new Error(timedOut()))
        }, timeoutMs),
      }
      this.waiting.push(waiter)
    })
  }

  /**
   * Hands `frame` to the first waiter that takes it; false when none did. A predicate that
   * throws fails its own wait, not the caller (a socket's handler).
   */
  offer(frame: F): boolean {
    for (let i = 0; i < this.waiting.length; i++) {
      const waiter = this.waiting[i] as Waiter<F>
      let taken: boolean
      try {
        taken = waiter.accept(frame)
      } catch (error) {
        this.waiting.splice(i--, 1)
        clearTimeout(waiter.timer)
        waiter.reject(error as Error)
        continue
      }
      if (taken) {
        this.waiting.splice(i, 1)
        clearTimeout(waiter.timer)
        waiter.resolve(frame)
        return true
      }
    }
    return false
  }

  /** The connection ended: every wait fails with `reason`. */
  rejectAll(reason: string) {
    for (const waiter of this.waiting.splice(0)) {
      clearTimeout(waiter.timer)
      waiter.reject(new Error(reason))
    }
  }
}
