/** Serve echo on a SelectorPoller loop until `stopped` settles; `onListening` gets the port. */
export function serve(port: number, onListening: (port: number) => void, stopped: Promise<unknown>): Promise<unknown>;
