export function replayVectorFile() { return 0; }
