/**
 * @loop/selector — asyncio's selector event loop for Node: a native readiness set (epoll,
 * kqueue, or a libuv uv_poll_t per descriptor) nested in libuv, raw non-blocking sockets for `@loop/net`, and `addReader`/`addWriter` for any
 * file descriptor.
 */
export { SelectorPoller } from "./selector-poller.js";
export type { FdWatching } from "./selector-poller.js";
export { SelectorNetDriver } from "./net-driver.js";
export type { SelectorListenOptions } from "./net-driver.js";
export { SelectorTransport } from "./transport.js";
export type { SelectorSocket } from "./transport.js";
export { addReader, removeReader, addWriter, removeWriter, selectorAvailable, selectorUnavailableReason } from "./fd-watch.js";
export type { SystemError } from "./errors.js";
export type { SelectorBackend } from "./native.js";
export { SelectorProcessDriver, processesUnavailableReason } from "./processes.js";
export type { SelectorPipe } from "./pipes.js";
