// Dawn's Node binding waits for the GPU (a buffer mapping for a read-back, an async pipeline) by
// calling wgpuInstanceProcessEvents from setImmediate, and again from setImmediate until the work is
// done: while a read is outstanding the main thread spins through the event loop tens of thousands of
// times a second. On SwiftShader that spinning thread takes a core from the driver's own workers (a
// small mlp run: 1.9 M polls, about half of the run's CPU seconds). Dawn looks setImmediate up on the
// global object at every call, so its callbacks are routed through a timer here: at most one poll a
// millisecond, the event loop asleep in between.

/** Dawn's poll callback: a nameless native function (Napi::Function::New). A bound JS function is
 *  native too but named "bound ...", and every other caller passes JS source. */
function isDawnPoll(callback: unknown): callback is (...args: unknown[]) => void {
  return typeof callback === 'function' && callback.name === '' && Function.prototype.toString.call(callback).includes('[native code]');
}

let installed = false;

/** Makes Dawn's event polling wait on a timer instead of spinning (once per process). */
export function pollDawnEventsByTimer(): void {
  if (installed) return;
  installed = true;
  const immediate = globalThis.setImmediate;
  const routed = ((callback: (...args: unknown[]) => void, ...args: unknown[]) =>
    isDawnPoll(callback) ? setTimeout(callback, 0, ...args) : immediate(callback, ...args)) as typeof setImmediate;
  globalThis.setImmediate = Object.assign(routed, immediate);
}
