/** Runs `task` every `ms` (unref'd, so it never keeps the process alive); a failure is logged and the next run goes ahead. Returns the stopper. */
export function every(ms: number, task: () => Promise<unknown>, onError: (e: Error) => void): () => void {
  const timer = setInterval(() => {
    task().catch(onError);
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
