import { availableParallelism } from 'node:os';

/**
 * The evaluation threads to use when `LLM_THREADS` is 0: half the CPUs the process may use,
 * at least one (1 on 2 cores, 8 on 16).
 *
 * Why not more: ggml's threads meet at a barrier after every operation of the graph and
 * spin while they wait. With more threads than free cores, a thread that the kernel has
 * descheduled holds every other thread at that barrier for a whole time slice, hundreds of
 * times a token. node-llama-cpp's own default (`max(4, cpuMathCores)`) puts 4 threads on a
 * 2-core machine that also runs Node, the embedder and the database: a 260K-parameter model
 * fell from thousands of tokens/s to under one (DEVELOPERS.md has the measurement). Half the
 * CPUs is about the physical cores on SMT machines, which is where token generation (memory
 * bound) stops gaining, and leaves the rest for the event loop, embeddings and PostgreSQL.
 */
export function defaultThreadCount(cpus: number = availableParallelism()): number {
  return Math.max(1, Math.floor(cpus / 2));
}
