/**
 * Cooperative scheduling for long synchronous work (chunking and indexing a large document):
 * the work runs in slices and gives the event loop a turn between them, so `/healthz`, search
 * and chat keep answering while a 1 MiB document is added.
 */

/** Synchronous work between two turns of the event loop; well under the 100 ms a health check may wait. */
export const DEFAULT_SLICE_MILLISECONDS = 10;

/** Lets timers and I/O callbacks run before the caller continues. */
export function yieldToEventLoop(): Promise<void> {
  // setImmediate runs after pending I/O without the timers' 1 ms floor; Deno has only setTimeout.
  const schedule = typeof setImmediate === 'function' ? setImmediate : (callback: () => void) => setTimeout(callback, 0);
  return new Promise((resolve) => schedule(resolve));
}

export interface TimeSlicer {
  /** Yields to the event loop when the current slice has run its time; else returns at once. */
  pause(): Promise<void>;
}

/** A {@link TimeSlicer} whose slices last `sliceMilliseconds`. */
export function createTimeSlicer({ sliceMilliseconds = DEFAULT_SLICE_MILLISECONDS }: { sliceMilliseconds?: number } = {}): TimeSlicer {
  let sliceStart = performance.now();
  return {
    async pause() {
      if (performance.now() - sliceStart < sliceMilliseconds) return;
      await yieldToEventLoop();
      sliceStart = performance.now();
    },
  };
}

/** `items.map(transform)` in slices: for transforms that are cheap one by one but not in thousands. */
export async function mapInSlices<Item, Result>(items: readonly Item[], transform: (item: Item) => Result): Promise<Result[]> {
  const slicer = createTimeSlicer();
  const results: Result[] = [];
  for (const item of items) {
    results.push(transform(item));
    await slicer.pause();
  }
  return results;
}

/** Collects `iterable` in slices: each step of the iterator must be bounded work. */
export async function collectInSlices<Item>(iterable: Iterable<Item>): Promise<Item[]> {
  const slicer = createTimeSlicer();
  const results: Item[] = [];
  for (const item of iterable) {
    results.push(item);
    await slicer.pause();
  }
  return results;
}
