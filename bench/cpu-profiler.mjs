// Opt-in CPU profiling for `BENCH_CPU_PROF=1 npm run bench`: preloaded into the idsync process with
// `node --import ./bench/cpu-profiler.mjs bin/idsync.js serve`, so idsync itself is unchanged. Each
// SIGUSR2 toggles the V8 profiler: the first starts it, the next writes the profile of exactly that
// window to $BENCH_CPU_PROF_DIR/idsync-<n>.cpuprofile. Plain JavaScript: it loads before tsx does.
import { Session } from "node:inspector";
import { renameSync, writeFileSync } from "node:fs";
import path from "node:path";

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  const post = (method, params = {}) => new Promise((resolve, reject) => {
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result)));
  });
  let running = false;
  let taken = 0;
  process.on("SIGUSR2", () => {
    if (!running) {
      running = true;
      void post("Profiler.enable")
        .then(() => post("Profiler.setSamplingInterval", { interval: 500 }))
        .then(() => post("Profiler.start"));
      return;
    }
    running = false;
    const file = path.join(dir, `idsync-${++taken}.cpuprofile`);
    void post("Profiler.stop").then(({ profile }) => {
      // written aside, then renamed: the file appearing is the bench's signal that it is complete
      writeFileSync(`${file}.tmp`, JSON.stringify(profile));
      renameSync(`${file}.tmp`, file);
    });
  });
}
