/**
 * SIGINT and SIGTERM while handler-form consumers run: every running consumer stops cleanly (its
 * position recorded), then the signal takes its default effect. Listeners are installed only while
 * a consumer runs, and never for a signal the application already listens to (its listener decides
 * what a signal does).
 */

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
type Signal = (typeof SIGNALS)[number];

/** How long a signal waits for the consumers to stop before it takes effect anyway (ms). */
const STOP_LIMIT = 10_000;

/** The stop() of each running handler-form consumer. */
const running = new Set<() => Promise<void>>();
/** Our listeners, by signal. */
const installed = new Map<Signal, () => void>();

/**
 * Tracks a running consumer until the returned function is called; signals stop it with `stop`.
 * @internal
 */
export function stopOnSignals(stop: () => Promise<void>): () => void {
  running.add(stop);
  for (const signal of SIGNALS) {
    if (installed.has(signal) || process.listenerCount(signal) > 0) continue;
    const listener = () => void onSignal(signal);
    installed.set(signal, listener);
    process.on(signal, listener);
  }
  return () => {
    running.delete(stop);
    if (running.size === 0) uninstall();
  };
}

function uninstall() {
  for (const [signal, listener] of installed) process.removeListener(signal, listener);
  installed.clear();
}

async function onSignal(signal: Signal) {
  // Ours go first: a second signal while the consumers stop takes its default effect at once.
  uninstall();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, STOP_LIMIT);
    timer.unref?.();
  });
  await Promise.race([Promise.allSettled([...running].map((stop) => stop())), limit]);
  clearTimeout(timer);
  // Listeners the application added since are its own: it decides what the signal does.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
