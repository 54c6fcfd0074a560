import type { NamedProcess } from '../process-stats.js'

/** A system under test, started by the benchmark and stopped when it is done with it. */
export interface BenchTarget {
  name: string
  /** Where clients connect; they are spread over these in turn. */
  wsUrls: string[]
  /** The chat server processes themselves (their RSS per connection is reported). */
  serverPids: number[]
  /**
   * The process between the clients and the chat instances, if any (the edge's haproxy, the
   * Node gateway): its CPU is in `cpuProcesses`, and its RSS per connection is reported too.
   */
  edge?: EdgeProcess
  /**
   * Every process whose CPU counts as the server's: the chat servers, and auth, Redis and
   * PostgreSQL where the target uses them.
   */
  cpuProcesses(): NamedProcess[]
  /**
   * A full garbage collection in each server process, before a memory reading; resolves with
   * their JavaScript heap in use then, summed, in MiB.
   */
  collectGarbage(): Promise<number>
  /**
   * Resident memory of each of its processes (MiB, by name) once started and left idle, before
   * any client: what running it costs at rest. Only the standalone's is read.
   */
  idleRssAfterStart?: Record<string, number>
  /**
   * Credentials for `count` clients, registered and logged in through the REST API (or, for the
   * baseline, plain names). The same users come back on a later call, plus new ones if needed.
   */
  tokens(count: number): Promise<string[]>
  /** Stops it; targets that share their processes share the stop, which runs once. */
  stop(): Promise<void>
}

export interface EdgeProcess {
  name: string
  pid: number
  /** A full garbage collection before its RSS is read, for a Node.js process. */
  collectGarbage?(): Promise<unknown>
}
