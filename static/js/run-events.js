// The run on screen, for the parts of the page that follow it (the explainers, learn.js): the
// explorer (run-controller.js) announces a run when it starts and again, `complete`, once its
// stream has ended with every summary. A listener that subscribes late gets the last
// announcement at once, so the order in which the page's modules start does not matter.

let last = null;
const listeners = [];

export function announce(run, complete) {
  last = { run, complete };
  for (const callback of listeners) callback(run, complete);
}

export function onRun(callback) {
  listeners.push(callback);
  if (last) callback(last.run, last.complete);
}
