declare const GATEHOUSE_VERSION: string | undefined;

/** Injected by the bundler; `dev` when running from source (tests). */
export const VERSION: string = typeof GATEHOUSE_VERSION === 'string' ? GATEHOUSE_VERSION : 'dev';
