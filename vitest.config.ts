import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests start real servers and peers on a shared 2-core machine: allow for a slow neighbour.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
