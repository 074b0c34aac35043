// The training on screen, for the parts of the page that follow it (the lessons' claims, the
// pins): training.js announces a training when it starts and again, `complete`, once its `done`
// event has arrived. A listener that subscribes late gets the last announcement at once.

let last = null;
const listeners = [];

export function announceTraining(data, complete) {
  last = { data, complete };
  for (const callback of listeners) callback(data, complete);
}

export function onTraining(callback) {
  listeners.push(callback);
  if (last) callback(last.data, last.complete);
}
