import type { EventLoop } from "@loop/core";
import type { Process } from "./subprocess.js";

/**
 * The children of each loop that are not finished yet (exited and every pipe closed). When the loop closes, those still
 * running are killed (their driver reaps them): a child must not outlive the program that
 * forgot it, nor become a zombie. Debug mode reports each, with the task that started it.
 */
const running = new WeakMap<EventLoop, Set<Process>>();

export function rememberChild(loop: EventLoop, process: Process): void {
  let children = running.get(loop);
  if (children === undefined) {
    const set = new Set<Process>();
    children = set;
    running.set(loop, set);
    loop.addCloseCallback(() => killLeftovers(loop, set));
  }
  children.add(process);
}

export function forgetChild(loop: EventLoop, process: Process): void {
  running.get(loop)?.delete(process);
}

function killLeftovers(loop: EventLoop, children: Set<Process>): void {
  const left = [...children];
  children.clear();
  running.delete(loop);
  for (const child of left) {
    const handle = child._driverHandle;
    if (handle === null) continue;
    if (child.returncode === null && loop.getDebug()) {
      const { command, task, stack } = child._origin;
      const by = task === null ? "outside any task" : `by task ${JSON.stringify(task.name)}`;
      loop.debugLogger.warn(
        `Child process ${handle.pid} (${child._describe()}) was still running when the loop closed; killing it. It was started ${by}${stack === undefined ? "" : `\n${stack}`}`,
        { pid: handle.pid, command, task, creationStack: stack },
      );
    }
    handle.close();
  }
}
