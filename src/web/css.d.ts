// esbuild bundles the CSS a module imports; for the type checker such an import is only a side effect.
declare module '*.css';
