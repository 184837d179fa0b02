// Command-line options of the bench scripts: `--some-key value` (or `--some-key=value`) for each key
// of `defaults` (camelCase), numbers where the default is a number; --help prints `help` and exits 0,
// anything unknown or a missing value prints the error and `help` and exits 2.

export function parseOptions(argv, defaults, help) {
  const o = { ...defaults };
  const fail = (msg) => {
    console.error(`${msg}\n\n${help}`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === "--help" || a === "-h") {
      console.log(help);
      process.exit(0);
    }
    let v;
    if (a.includes("=")) [a, v] = [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)];
    const key = a.replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!a.startsWith("--") || !(key in defaults)) fail(`unknown option ${a}`);
    v ??= argv[++i];
    if (v === undefined) fail(`${a} needs a value`);
    if (typeof defaults[key] === "number") {
      const n = Number(v);
      if (!Number.isFinite(n)) fail(`${a}: not a number: ${v}`);
      o[key] = n;
    } else o[key] = v;
  }
  return o;
}
