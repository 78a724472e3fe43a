/** Every file under src/ and its mtime in ms, keyed by its path from the checkout (bin/built.js). */
export function sourceTimes(): Record<string, number>;
/** Whether dist/ was built from the sources as they are now (bin/built.js). */
export function buildState(): { fresh: true } | { fresh: false; built: boolean; changed?: string };
