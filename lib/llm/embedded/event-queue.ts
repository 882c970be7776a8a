/**
 * Turns callbacks (node-llama-cpp's `onTextChunk`) into an async iterator: `push` from the
 * producer, `end` or `fail` once, and the consumer reads with `for await`.
 */
export function createEventQueue<T>() {
  const items: T[] = [];
  let finished = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  return {
    push(item: T) {
      items.push(item);
      notify();
    },
    end() {
      finished = true;
      notify();
    },
    fail(error: unknown) {
      failure ??= { error };
      finished = true;
      notify();
    },
    async *drain(): AsyncGenerator<T> {
      for (;;) {
        while (items.length > 0) yield items.shift()!;
        if (failure) throw failure.error;
        if (finished) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}
