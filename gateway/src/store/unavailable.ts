/**
 * The store cannot be reached (or did not answer in time). Kept free of any driver so the HTTP
 * boundary (wire/render-error.ts) can recognise it and answer 503 instead of a 500.
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    /** The driver's or server's code (ECONNREFUSED, 57P01, ...), when there is one. */
    readonly code: string | undefined,
    /**
     * `host:port` of the database: safe to show to clients, unlike the message, which may name
     * the database and user for the admin.
     */
    readonly endpoint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
