/** Checks a file descriptor argument: a TypeError for a wrong type, a RangeError for a bad number. */
export function checkFd(where: string, fd: unknown): void {
  if (typeof fd !== "number") throw new TypeError(`${where}(fd, …): fd must be a file descriptor number, got ${typeof fd}`);
  if (!Number.isInteger(fd) || fd < 0) throw new RangeError(`${where}(fd, …): fd must be an integer of 0 or more, got ${fd}`);
}
